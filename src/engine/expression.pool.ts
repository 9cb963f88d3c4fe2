import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

import { ExpressionError } from './expression.error.js';
import {
  expressionRuntime,
  threadMain,
  type EvaluationJob,
  type EvaluationReply,
  type RuntimeOptions,
} from './expression.runtime.js';

export interface EvaluationPoolOptions {
  maxThreads: number;
  graceMs: number;
  maxMemoryMb: number | undefined;
  runtime: RuntimeOptions;
}

interface Task {
  job: EvaluationJob;
  resolve: (reply: EvaluationReply) => void;
  reject: (error: Error) => void;
}

interface PoolThread {
  worker: Worker;
  state: 'starting' | 'idle' | 'busy' | 'gone';
  task?: Task;
  timer?: NodeJS.Timeout;
}

/** jsonata's main file is a UMD bundle: an eval thread can `require` it by this path. */
const JSONATA_PATH = createRequire(import.meta.url).resolve('jsonata');
const THREAD_SOURCE = `(${threadMain.toString()})(require('node:worker_threads'), require, ${expressionRuntime.toString()});`;

/** A job past its limit plus `graceMs` loses its thread: the only way to stop a native call (a catastrophic regex). */
export class EvaluationPool {
  private readonly threads = new Set<PoolThread>();
  private readonly idle: PoolThread[] = [];
  private readonly waiting: Task[] = [];
  private starting = 0;
  /** A thread failed to start: start no other while threads are left to do the work. */
  private startFailed = false;
  private closed = false;

  constructor(private readonly options: EvaluationPoolOptions) {}

  run(job: EvaluationJob): Promise<EvaluationReply> {
    if (this.closed) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.waiting.push({ job, resolve, reject });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const tasks = this.waiting.splice(0);
    const threads = [...this.threads];
    this.threads.clear();
    this.idle.length = 0;
    for (const thread of threads) {
      clearTimeout(thread.timer);
      if (thread.task) tasks.push(thread.task);
      thread.state = 'gone';
    }
    for (const task of tasks) task.reject(closedError());
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.idle.length > 0) {
      this.dispatch(this.idle.pop() as PoolThread, this.waiting.shift() as Task);
    }
    const wanted = this.waiting.length > this.starting && this.threads.size < this.options.maxThreads;
    if (wanted && (!this.startFailed || this.threads.size === 0)) this.spawn();
  }

  private dispatch(thread: PoolThread, task: Task): void {
    try {
      thread.worker.postMessage(task.job);
    } catch (error) {
      // A context that cannot be copied (a function in it): the thread never saw it.
      task.reject(
        new ExpressionError('expression_error', `the context cannot be evaluated (${(error as Error).name})`),
      );
      this.release(thread);
      return;
    }
    // An evaluation in flight keeps the process alive, as an I/O call would.
    if (thread.state === 'idle') thread.worker.ref();
    thread.state = 'busy';
    thread.task = task;
    thread.timer = setTimeout(() => this.expire(thread), task.job.timeoutMs + this.options.graceMs);
  }

  private spawn(): void {
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { jsonataPath: JSONATA_PATH, options: this.options.runtime },
      resourceLimits: this.options.maxMemoryMb ? { maxOldGenerationSizeMb: this.options.maxMemoryMb } : undefined,
    });
    const thread: PoolThread = { worker, state: 'starting' };
    this.threads.add(thread);
    this.starting++;
    worker.on('message', (message: EvaluationReply | { ready: true }) => {
      if ('ready' in message) this.ready(thread);
      else this.answer(thread, message);
    });
    worker.on('error', (error) => this.lose(thread, error));
    worker.on('exit', (code) => this.lose(thread, new Error(`the thread exited with code ${code}`)));
  }

  private ready(thread: PoolThread): void {
    if (thread.state !== 'starting') return;
    this.starting--;
    this.startFailed = false;
    this.release(thread);
  }

  private answer(thread: PoolThread, reply: EvaluationReply): void {
    const task = thread.task;
    if (thread.state !== 'busy' || !task) return;
    clearTimeout(thread.timer);
    thread.task = undefined;
    this.release(thread);
    task.resolve(reply);
  }

  private release(thread: PoolThread): void {
    const next = this.waiting.shift();
    if (next) {
      this.dispatch(thread, next);
      return;
    }
    thread.state = 'idle';
    thread.worker.unref();
    this.idle.push(thread);
  }

  private expire(thread: PoolThread): void {
    const task = thread.task;
    if (thread.state !== 'busy' || !task) return;
    this.remove(thread);
    void thread.worker.terminate();
    const { timeoutMs } = task.job;
    task.reject(new ExpressionError('expression_timeout', `the expression did not finish within ${timeoutMs} ms`));
    this.pump();
  }

  private lose(thread: PoolThread, error: Error): void {
    if (thread.state === 'gone') return;
    const { state, task } = thread;
    this.remove(thread);
    if (state === 'starting') {
      this.startFailed = true;
      if (this.threads.size > 0) return;
      // No thread to wait for: fail what waits rather than start threads in a loop; the next evaluation tries again.
      const cause = new Error(`an expression thread failed to start: ${error.message}`, { cause: error });
      for (const waiting of this.waiting.splice(0)) waiting.reject(cause);
      return;
    }
    if (task) {
      const outOfMemory = (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
      const message = outOfMemory
        ? 'the expression ran out of memory'
        : `the expression stopped its evaluation thread (${error.name})`;
      task.reject(new ExpressionError('expression_error', message));
    }
    this.pump();
  }

  private remove(thread: PoolThread): void {
    if (thread.state === 'starting') this.starting--;
    clearTimeout(thread.timer);
    thread.state = 'gone';
    thread.task = undefined;
    this.threads.delete(thread);
    const at = this.idle.indexOf(thread);
    if (at !== -1) this.idle.splice(at, 1);
  }
}

function closedError(): Error {
  return new Error('the expression evaluator is closed');
}
