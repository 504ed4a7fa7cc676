/**
 * piscina worker entry for `forwardpool queue worker`: the job thread, which runs one shard or
 * merge at a time away from the isolate that holds bullmq (src/queue/job-task.ts says why).
 */
import { runJobTask, type JobTask, type JobTaskResult } from '../src/queue/job-task.js';

export default function queueJob(task: JobTask): Promise<JobTaskResult> {
  return runJobTask(task);
}
