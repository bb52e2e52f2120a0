// Type-aware lint (STYLE.md §22): floating promises and non-exhaustive switches are errors.
import js from '@eslint/js'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

// The layer arrows of ARCHITECTURE.md "Layout": api/http and api/web → feature services →
// repositories and domain; workers/ → services, repositories, domain. Nothing imports api/http,
// api/web or workers/ but their own files (scripts/ and test/ start and test them); api/domain
// imports nothing outside itself (node: built-ins aside). test/unit/layering.test.ts proves it bites.
const outside = (layer) => [`./api/!(${layer})/**`, './api/*.ts', './migrations/**', './openapi/**', './workers/**']
const layering = {
  files: ['**/*.ts'],
  plugins: { 'import-x': importX },
  settings: {
    // Sources import './x.js' for './x.ts' (NodeNext); an import that does not resolve is tsc's to refuse.
    'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'], extensionAlias: { '.js': ['.ts', '.js'] } })],
  },
  rules: {
    'import-x/no-restricted-paths': [
      'error',
      {
        basePath: import.meta.dirname,
        zones: [
          {
            target: './api/domain',
            from: '.',
            except: ['./api/domain'],
            message: 'api/domain holds pure rules and imports nothing outside api/domain (ARCHITECTURE.md, Layout).',
          },
          {
            target: outside('http'),
            from: './api/http',
            message: 'Nothing imports the JSON API shell: api/http calls the services, never the other way round.',
          },
          {
            // The app factory (api/http/app.ts) is the one composition root: it mounts the workbench
            // under /app/ beside the JSON API. No other file outside api/web may import it.
            target: [...outside('web').filter((t) => t !== './api/!(web)/**'), './api/!(web|http)/**', './api/http/!(app).ts', './api/http/*/**'],
            from: './api/web',
            message: 'Nothing imports the workbench: api/web calls the services, never the other way round.',
          },
          {
            target: ['./api/**', './migrations/**', './openapi/**'],
            from: './workers',
            message: 'Nothing imports workers/: the workers call services, repositories and domain, never the other way round.',
          },
        ],
      },
    ],
  },
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'openapi/types.gen.ts', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  layering,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.mjs', 'scripts/*.mjs', 'scripts/bench/*.mjs'] }, tsconfigRootDir: import.meta.dirname },
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', fetch: 'readonly', FormData: 'readonly', Blob: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
      // Fastify handlers and hooks are async by contract, awaiting or not.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Migrations are frozen and typed against Kysely<any> on purpose (STYLE.md §12).
    files: ['migrations/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['scripts/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The workbench's one browser script (progressive enhancement, served as a static file).
    files: ['api/web/static/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { document: 'readonly', window: 'readonly' } },
  },
)
