package ai.pingvas.generation.domain;

/** A scheduling decision: run {@code job} on {@code workerId}; {@code coldLoad} when the model must be loaded. */
public record Assignment(QueuedJob job, String workerId, boolean coldLoad) {
}
