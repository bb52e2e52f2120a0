import { withAdmin, withTenant, type Db, type TenantScope, type Trx } from '../db/database.js'
import type { StaffRole, TenantRole } from '../db/schema.js'
import { DomainError } from '../domain/errors.js'
import type { Scope } from '../domain/scopes.js'

interface Base {
  keyId: string
  scopes: ReadonlySet<Scope>
}

export interface AdminPrincipal extends Base {
  kind: 'admin'
}

export interface ClientPrincipal extends Base {
  kind: 'client'
  tenantId: string
  tenantRole: TenantRole
  regionId: string
}

export interface StaffPrincipal extends Base {
  kind: 'staff'
  tenantId: string
  tenantRole: 'hub'
  regionId: string
  staffId: string
  staffRole: StaffRole
}

export type Principal = AdminPrincipal | ClientPrincipal | StaffPrincipal
export type TenantPrincipal = ClientPrincipal | StaffPrincipal

export const isAdmin = (p: Principal): p is AdminPrincipal => p.kind === 'admin'

export const tenantScope = (p: TenantPrincipal): TenantScope => ({ tenantId: p.tenantId, regionId: p.regionId })

/** Refuses a principal that is not the platform admin (defence in depth behind the scope check). */
export function requireAdmin(p: Principal): asserts p is AdminPrincipal {
  if (p.kind !== 'admin') throw new DomainError('forbidden', 'forbidden', 'only the platform administrator may do this')
}

export const isLeadOf = (p: Principal, hubTenantId: string): boolean =>
  p.kind === 'staff' && p.staffRole === 'lead' && p.tenantId === hubTenantId

/** A transaction in the principal's own scope: the admin setting, or its tenant and region. */
export const inScope = <T>(db: Db, principal: Principal, fn: (trx: Trx) => Promise<T>): Promise<T> =>
  isAdmin(principal) ? withAdmin(db, fn) : withTenant(db, tenantScope(principal), fn)

/** Who holds the key a tenant principal acts with: a client key or a staff member (access log, uploads). */
export const keyHolderOf = (p: TenantPrincipal): { kind: 'client' | 'staff'; id: string } =>
  p.kind === 'staff' ? { kind: 'staff', id: p.staffId } : { kind: 'client', id: p.keyId }
