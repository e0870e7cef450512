package ai.pingvas.generation.store;

import ai.pingvas.generation.domain.Job;
import java.util.List;

/** A page of jobs, newest first, and the cursor of the next page (null at the end). */
public record JobPage(List<Job> items, String nextCursor) {
}
