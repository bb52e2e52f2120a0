// Group commit: BullMQ hands a worker one job at a time, and HTTP one request at a time; many short jobs (or submissions) of one tenant are
// cheaper as one transaction than as one each, because on this kind of machine every statement's
// socket write costs more than the statement (issue 13). A job's handler adds its item under a key
// and waits for its own result; items of one key that arrive while that key's batches run are
// taken together by the next batch. A job still succeeds or fails on its own: `run` answers one
// result (or error) per item.

/** One item's outcome of a batch: its result, or the error that fails just this item's job. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown }

export interface BatcherOptions {
  /** At most this many items in one batch. */
  maxBatch: number
  /** At most this many batches of one key at once (each holds a database connection). */
  maxInFlightPerKey: number
}

interface Waiting<T, R> {
  item: T
  resolve: (value: R) => void
  reject: (error: unknown) => void
}

interface KeyState<T, R> {
  waiting: Waiting<T, R>[]
  inFlight: number
  scheduled: boolean
}

export class KeyedBatcher<T, R> {
  private readonly keys = new Map<string, KeyState<T, R>>()

  constructor(
    private readonly run: (key: string, items: T[]) => Promise<Outcome<R>[]>,
    private readonly options: BatcherOptions,
  ) {}

  add(key: string, item: T): Promise<R> {
    const state = this.keys.get(key) ?? { waiting: [], inFlight: 0, scheduled: false }
    this.keys.set(key, state)
    return new Promise<R>((resolve, reject) => {
      state.waiting.push({ item, resolve, reject })
      // Items added in the same turn of the event loop go together; later ones wait for a free place.
      if (!state.scheduled && state.inFlight < this.options.maxInFlightPerKey) {
        state.scheduled = true
        setImmediate(() => {
          state.scheduled = false
          this.next(key, state)
        })
      }
    })
  }

  private next(key: string, state: KeyState<T, R>): void {
    while (state.inFlight < this.options.maxInFlightPerKey && state.waiting.length > 0) {
      const batch = state.waiting.splice(0, this.options.maxBatch)
      state.inFlight += 1
      void this.settle(batch, key).finally(() => {
        state.inFlight -= 1
        if (state.waiting.length > 0) this.next(key, state)
        else if (state.inFlight === 0 && !state.scheduled) this.keys.delete(key)
      })
    }
  }

  private async settle(batch: Waiting<T, R>[], key: string): Promise<void> {
    let outcomes: Outcome<R>[]
    try {
      outcomes = await this.run(key, batch.map((w) => w.item))
    } catch (error) {
      outcomes = batch.map(() => ({ ok: false, error }))
    }
    batch.forEach((w, i) => {
      const o = outcomes[i] ?? { ok: false, error: new Error('the batch gave no outcome for this item') }
      if (o.ok) w.resolve(o.value)
      else w.reject(o.error)
    })
  }
}
