// The duration syntax of settings: the core's parser (subscriptions use the same rules).
export { formatDuration, parseDuration } from '../shared/duration.ts'
