// Who may do what with appointments (API.md "Appointments and scheduling", the "who" column).
import type { Actor } from '../cases/lifecycle.js'
import type { Principal, TenantPrincipal } from '../auth/principal.js'
import { DomainError } from '../domain/errors.js'

/** Any principal of the hub itself: its staff or its own system client ("hub staff"). */
export const isHubOf = (p: Principal, hubTenantId: string): p is TenantPrincipal =>
  p.kind !== 'admin' && p.tenantRole === 'hub' && p.tenantId === hubTenantId

export const requireTenant = (p: Principal): TenantPrincipal => {
  if (p.kind === 'admin') throw new DomainError('forbidden', 'forbidden', 'the platform administrator does not handle appointments')
  return p
}

export const actorOf = (p: TenantPrincipal): Actor =>
  p.kind === 'staff' ? { kind: 'hub', id: p.staffId } : { kind: p.tenantRole === 'hub' ? 'hub' : 'member', id: p.keyId }

export const SCHEDULER: Actor = { kind: 'system', id: 'scheduling' }
