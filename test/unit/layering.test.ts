// The layering rule of eslint.config.js bites: each fixture is linted with the project's own
// configuration as if it sat at `path`, and an arrow against ARCHITECTURE.md "Layout" is an error.
import { fileURLToPath } from 'node:url'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const RULE = 'import-x/no-restricted-paths'

// Only the layering rule runs, without type information: the fixtures exist in memory only.
const eslint = new ESLint({
  cwd: root,
  cache: false,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false, project: null } } },
  ruleFilter: ({ ruleId }) => ruleId === RULE,
})

const lint = async (path: string, source: string): Promise<string[]> => {
  const [result] = await eslint.lintText(source, { filePath: `${root}${path}` })
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`)
}

const wrongWay: [string, string, string][] = [
  ['a domain rule importing the HTTP shell', 'api/domain/fixture.ts', "import { STATUS_OF_KIND } from '../http/problem.js'"],
  ['a domain rule importing the database', 'api/domain/fixture.ts', "import type { Db } from '../db/database.js'"],
  ['a domain rule importing config', 'api/domain/data/fixture.ts', "import { loadConfig } from '../../config.js'"],
  ['a domain rule importing a package', 'api/domain/fixture.ts', "import { sql } from 'kysely'"],
  ['a service importing the HTTP shell', 'api/cases/fixture.service.ts', "import { Problem } from '../http/problem.js'"],
  ['a repository importing a route file', 'api/tenancy/fixture.repository.ts', "import { tenancyRoutes } from '../http/routes/tenancy.routes.js'"],
  ['a top-level module importing the HTTP shell', 'api/fixture.ts', "import { buildApp } from './http/app.js'"],
  ['a worker importing the HTTP shell', 'workers/fixture.ts', "import { Problem } from '../api/http/problem.js'"],
  ['a service importing a worker', 'api/documents/fixture.service.ts', "import { main } from '../../workers/main.js'"],
  ['a migration importing the HTTP shell', 'migrations/fixture.ts', "import { Problem } from '../api/http/problem.js'"],
  ['a service importing the workbench', 'api/cases/fixture.service.ts', "import { workbench } from '../web/workbench.js'"],
  ['a route file importing the workbench', 'api/http/routes/fixture.routes.ts', "import { workbench } from '../../web/workbench.js'"],
  ['the workbench importing the HTTP shell', 'api/web/fixture.ts', "import { Problem } from '../http/problem.js'"],
]

const rightWay: [string, string, string][] = [
  ['a domain rule importing another domain rule', 'api/domain/fixture.ts', "import { isValidBsn } from './bsn.js'"],
  ['a domain rule importing a built-in', 'api/domain/fixture.ts', "import { createHmac } from 'node:crypto'"],
  ['a route file importing a service', 'api/http/routes/fixture.routes.ts', "import { submitCase } from '../../cases/cases.service.js'"],
  ['the HTTP shell importing itself', 'api/http/fixture.ts', "import { Problem } from './problem.js'"],
  ['a service importing a repository and the domain', 'api/cases/fixture.service.ts', "import { findCase } from './cases.repository.js'\nimport { DomainError } from '../domain/errors.js'"],
  ['a worker importing a service', 'workers/fixture.ts', "import { retentionSweep } from '../api/documents/documents.service.js'\nimport { relay } from './relay.js'"],
  ['a script starting the API', 'scripts/fixture.ts', "import { main } from '../api/http/server.js'"],
  ['the app factory mounting the workbench', 'api/http/app.ts', "import { workbench } from '../web/workbench.js'"],
  ['a workbench page calling a service', 'api/web/pages/fixture.pages.ts', "import { submitCase } from '../../cases/cases.service.js'"],
  ['a test testing a worker', 'test/integration/fixture.test.ts', "import { main } from '../../workers/main.js'\nimport { buildApp } from '../../api/http/app.js'"],
]

describe('the layering lint rule', () => {
  it.each(wrongWay)('refuses %s', async (_what, path, source) => {
    const messages = await lint(path, source)
    expect(messages.length).toBeGreaterThan(0)
    for (const m of messages) expect(m).toMatch(new RegExp(`^${RULE}: Unexpected path`))
  })

  it.each(rightWay)('allows %s', async (_what, path, source) => {
    expect(await lint(path, source)).toStrictEqual([])
  })
})
