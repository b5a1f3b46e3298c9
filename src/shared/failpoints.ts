// Named crash points for the crash tests (reliability.md R01–R05): the composition root turns
// HOOKPOST_FAILPOINT into a function that kills the process at that point; in production it is
// a no-op. The core only calls hit(name).
export type FailpointName =
  | 'publish.before_commit'
  | 'publish.after_commit'
  | 'worker.after_send'
  | 'worker.before_complete'
  | 'worker.after_complete'

export type Failpoints = (name: FailpointName) => void

export const noFailpoints: Failpoints = () => {}
