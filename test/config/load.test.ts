import { describe, expect, it } from 'vitest'
import { formatDuration, parseDuration } from '../../src/config/duration.ts'
import { ConfigError, loadConfig } from '../../src/config/load.ts'

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({})
    expect(c).toMatchObject({
      databaseUrl: 'sqlite:./data/hookpost.db',
      host: '127.0.0.1',
      port: 8080,
      role: 'all',
      allowHttp: false,
      allowedCidrs: [],
      requestTimeoutMs: 15_000,
      adminToken: undefined,
      masterKey: undefined,
    })
    expect(c.retryScheduleMs.map(formatDuration)).toEqual([
      '5s',
      '5m',
      '30m',
      '2h',
      '5h',
      '10h',
      '14h',
      '20h',
      '1d',
    ])
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('reads HOOKPOST_* variables, and flags win over them', () => {
    const c = loadConfig(
      {
        HOOKPOST_PORT: '9000',
        HOOKPOST_ALLOW_HTTP: 'true',
        HOOKPOST_ALLOWED_CIDRS: '127.0.0.0/8, ::1/128',
        HOOKPOST_RETRY_SCHEDULE: '1s,2s,5s',
        HOOKPOST_REQUEST_TIMEOUT: '2s',
        HOOKPOST_ROLE: 'worker',
      },
      { port: '9001' },
    )
    expect(c).toMatchObject({
      port: 9001,
      allowHttp: true,
      allowedCidrs: ['127.0.0.0/8', '::1/128'],
      retryScheduleMs: [1000, 2000, 5000],
      requestTimeoutMs: 2000,
      role: 'worker',
    })
  })

  it('reports every bad value at once', () => {
    try {
      loadConfig({
        HOOKPOST_PORT: 'abc',
        HOOKPOST_ROLE: 'boss',
        HOOKPOST_RETRY_SCHEDULE: '1x',
        HOOKPOST_DATABASE_URL: 'mysql://x',
      })
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError)
      expect((e as ConfigError).problems).toHaveLength(4)
      expect((e as ConfigError).message).toContain('HOOKPOST_PORT')
    }
  })

  it('takes an egress proxy as http://host:port only, and the extra CA file as a path', () => {
    const c = loadConfig({
      HOOKPOST_EGRESS_PROXY: 'http://proxy.internal:3128',
      HOOKPOST_EXTRA_CA_CERTS: '/etc/ca.pem',
    })
    expect(c.egressProxy).toBe('http://proxy.internal:3128')
    expect(c.extraCaCerts).toBe('/etc/ca.pem')
    expect(loadConfig({}).egressProxy).toBeUndefined()
    for (const bad of ['https://p:3128', 'http://u:p@p:3128', 'http://p:3128/path', 'proxy:3128']) {
      expect(() => loadConfig({ HOOKPOST_EGRESS_PROXY: bad }), bad).toThrow(ConfigError)
    }
  })

  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(() => parseDuration('5')).toThrow()
    expect(() => parseDuration('-1s')).toThrow()
  })
})
