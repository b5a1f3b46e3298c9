// The application databases the documented `hookpost outbox …` commands use: a fresh PostgreSQL
// database (on TEST_DATABASE_URL's server) and a fresh MariaDB/MySQL one (on TEST_MYSQL_URL's),
// each with the outbox table already migrated, so that `relay` and `lag` find it whatever order
// the examples run in.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createOutbox } from '../../packages/outbox/src/index.ts'
import { databaseUrls } from '../../packages/outbox/test/databases.ts'
import { freshDatabase } from '../support/postgres.ts'

export interface OutboxDatabases {
  postgres: string
  mysql: string
  drop(): Promise<void>
}

export async function outboxDatabases(): Promise<OutboxDatabases> {
  const pgDb = await freshDatabase()
  try {
    return await withMysql(pgDb)
  } catch (e) {
    await pgDb.drop()
    throw e
  }
}

async function withMysql(pgDb: Awaited<ReturnType<typeof freshDatabase>>): Promise<OutboxDatabases> {
  const pgClient = new pg.Client({ connectionString: pgDb.url })
  await pgClient.connect()
  try {
    for (const s of createOutbox({ dialect: 'postgres' }).migration()) await pgClient.query(s)
  } finally {
    await pgClient.end()
  }

  const name = `hookpost_docs_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
  const server = await mysql.createConnection({ uri: databaseUrls.mysql })
  const mysqlUrl = new URL(databaseUrls.mysql)
  mysqlUrl.pathname = `/${name}`
  try {
    await server.query(`create database \`${name}\``)
    const app = await mysql.createConnection({ uri: mysqlUrl.toString() })
    try {
      for (const s of createOutbox({ dialect: 'mysql' }).migration()) await app.query(s)
    } finally {
      await app.end()
    }
  } finally {
    await server.end()
  }
  return {
    postgres: pgDb.url,
    mysql: mysqlUrl.toString(),
    async drop() {
      await pgDb.drop()
      const c = await mysql.createConnection({ uri: databaseUrls.mysql })
      await c.query(`drop database if exists \`${name}\``)
      await c.end()
    },
  }
}
