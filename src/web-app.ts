// The web app: the HTTP API with the dashboard beside it. src/http and src/dashboard do not
// import each other; this file (like main.ts) is where they meet.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { dashboardRoutes } from './dashboard/dashboard-routes.tsx'
import type { DashboardPorts } from './dashboard/ports.ts'
import { type AppDeps, buildApp } from './http/build-app.ts'

export interface WebAppDeps extends Omit<AppDeps, 'more'> {
  /** Signs the dashboard's anonymous cookies (32 bytes, or a function); random per process when absent. */
  sessionKey?: Buffer | (() => Buffer)
  /** Optional dashboard features the core does not offer yet (listing credentials). */
  dashboard?: DashboardPorts
}

export async function buildWebApp(deps: WebAppDeps): Promise<FastifyInstance> {
  const { sessionKey, dashboard, ...api } = deps
  return buildApp({
    ...api,
    more: async (app) => {
      await app.register(dashboardRoutes, {
        hookpost: deps.hookpost,
        adminToken: deps.adminToken,
        sessionKey: sessionKey ?? randomBytes(32),
        ...dashboard,
      })
    },
  })
}
