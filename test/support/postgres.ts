// PostgreSQL for tests: a fresh database per harness on the server in TEST_DATABASE_URL
// (default: the local server). Unreachable → the suite is skipped with the reason, except
// under CI=true, where it fails: CI makes PostgreSQL mandatory.
import pg from 'pg'

export const adminUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const postgresRequired =
  process.env['CI'] === 'true' || process.env['HOOKPOST_REQUIRE_POSTGRES'] === 'true'

export async function postgresAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 })
  try {
    await c.connect()
    await c.query('select 1')
    return { ok: true }
  } catch (e) {
    return { ok: false, reason: `PostgreSQL at ${adminUrl} is unreachable: ${(e as Error).message}` }
  } finally {
    await c.end().catch(() => {})
  }
}

export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hookpost_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl })
      await c.connect()
      await c.query(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}
