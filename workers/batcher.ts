// The group-commit batcher lives in api/batcher.ts, where the API's submissions use it too (the
// arrows point from workers/ to api/); the intake worker and its tests import it from here.
export { KeyedBatcher, type BatcherOptions, type Outcome } from '../api/batcher.js'
