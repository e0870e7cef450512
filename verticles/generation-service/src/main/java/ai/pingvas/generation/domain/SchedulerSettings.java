package ai.pingvas.generation.domain;

/**
 * Tunables of the dispatch policy.
 *
 * @param affinityMaxWaitMs longest a job waits for a worker that already holds its model
 * @param modelLoadMs assumed cost of loading a model onto a GPU
 * @param stepMs assumed time of one denoising step (for run-time estimates)
 * @param modelsPerWorker models a worker keeps loaded at once (VRAM / model size)
 */
public record SchedulerSettings(long affinityMaxWaitMs, long modelLoadMs, long stepMs, int modelsPerWorker) {
}
