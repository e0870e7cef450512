package ai.pingvas.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pingvas jobs list|show|watch|cancel|requeue}. */
@Command(name = "jobs", description = "Your generations: list, show, watch live, cancel; re-queue failed ones (admin).",
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.Show.class, JobsCommand.Watch.class,
        JobsCommand.Cancel.class, JobsCommand.Requeue.class})
final class JobsCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "say which: list, show, watch, cancel or requeue");
  }

  static String jobId(String id) {
    try {
      return UUID.fromString(id).toString();
    } catch (IllegalArgumentException e) {
      throw new CliException(Exit.USAGE, "'" + id + "' is not a job id (a UUID)");
    }
  }

  @Command(name = "list", description = "List your jobs, newest first.")
  static final class ListJobs extends ApiCommand {
    @Option(names = "--status", description = "Only jobs in this state: queued, dispatched, running, succeeded, failed, canceled")
    String status;

    @Option(names = "--limit", defaultValue = "20", description = "At most this many, 1-100 (default: ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--cursor", description = "The next_cursor of a previous page")
    String cursor;

    @Override
    int run() {
      StringBuilder path = new StringBuilder("/v1/generations?limit=").append(limit);
      if (status != null) {
        path.append("&status=").append(URLEncoder.encode(status, StandardCharsets.UTF_8));
      }
      if (cursor != null) {
        path.append("&cursor=").append(URLEncoder.encode(cursor, StandardCharsets.UTF_8));
      }
      JsonObject page = api().get(path.toString());
      if (json()) {
        Output.json(out(), page);
        return Exit.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (JsonElement element : page.getAsJsonArray("items")) {
        JsonObject job = element.getAsJsonObject();
        JsonObject progress = Output.object(job, "progress");
        rows.add(List.of(Output.string(job, "id"), Output.string(job, "status"), Output.string(job, "model"),
            Output.string(progress, "percent", "0") + "%", Output.string(job, "created_at"),
            Output.truncate(Output.string(job, "prompt"), 50)));
      }
      Output.table(out(), List.of("ID", "STATUS", "MODEL", "PROGRESS", "CREATED", "PROMPT"), rows);
      String next = Output.string(page, "next_cursor");
      if (next != null) {
        out().println("More: pingvas jobs list --cursor " + next);
      }
      return Exit.OK;
    }
  }

  @Command(name = "show", description = "Show one job.")
  static final class Show extends ApiCommand {
    @Parameters(paramLabel = "JOB_ID")
    String id;

    @Override
    int run() {
      JsonObject job = api().get("/v1/generations/" + jobId(id));
      if (json()) {
        Output.json(out(), job);
      } else {
        describe(job);
      }
      return Exit.OK;
    }

    private void describe(JsonObject job) {
      JsonObject progress = Output.object(job, "progress");
      out().println("Job      " + Output.string(job, "id"));
      out().println("Status   " + Output.string(job, "status") + "  (" + Output.string(progress, "step", "0") + "/"
          + Output.string(progress, "total", "?") + " steps)");
      out().println("Model    " + Output.string(job, "model"));
      out().println("Prompt   " + Output.string(job, "prompt"));
      out().println("Created  " + Output.string(job, "created_at"));
      JsonObject error = Output.object(job, "error");
      if (error.has("code")) {
        out().println("Error    " + Output.string(error, "code") + ": " + Output.string(error, "message"));
      }
      for (JsonElement image : job.getAsJsonArray("images")) {
        out().println("Image    " + Output.string(image.getAsJsonObject(), "id"));
      }
      out().flush();
    }
  }

  @Command(name = "watch", description = {"Follow a job live until it ends (exit 1 if it fails or is canceled).",
      "With --json every event is printed as one JSON line, then the finished job."})
  static final class Watch extends ApiCommand {
    @Parameters(paramLabel = "JOB_ID")
    String id;

    @Override
    int run() {
      ApiClient api = api();
      JsonObject job = api.get("/v1/generations/" + jobId(id));
      ProgressDisplay display = new ProgressDisplay(err(), interactive(), json() && !interactive());
      JsonObject done;
      try (EventStream stream = EventStream.open(api, state -> {
        if (state.equals("reconnecting")) {
          display.note("event stream dropped; reconnecting…");
        }
      })) {
        done = new JobFollower(api, stream, display).follow(job, event -> {
          if (json()) {
            Output.jsonLine(out(), event);
          }
        });
      }
      if (json()) {
        Output.jsonLine(out(), done);
      } else {
        out().println("Job " + Output.string(done, "id") + " " + Output.string(done, "status") + ".");
      }
      return "succeeded".equals(Output.string(done, "status")) ? Exit.OK : Exit.JOB_FAILED;
    }
  }

  @Command(name = "cancel", description = {"Cancel queued or running jobs.",
      "--admin cancels any user's job through the operator API."})
  static final class Cancel extends ApiCommand {
    @Parameters(paramLabel = "JOB_ID", arity = "1..*")
    List<String> ids;

    @Option(names = "--admin", description = "Cancel as an operator (any user's job)")
    boolean admin;

    @Override
    int run() {
      JsonArray canceled = new JsonArray();
      for (String raw : ids) {
        String id = jobId(raw);
        JsonObject job = api().post(admin ? "/v1/admin/jobs/" + id + "/cancel" : "/v1/generations/" + id + "/cancel",
            null);
        canceled.add(job);
        if (!json()) {
          out().println("Canceled " + id + " (" + Output.string(job, "status") + ").");
        }
      }
      if (json()) {
        Output.json(out(), ids.size() == 1 ? canceled.get(0) : canceled);
      }
      return Exit.OK;
    }
  }

  @Command(name = "requeue", description = "Re-queue failed jobs (admin); jobs that did not fail are left alone.")
  static final class Requeue extends ApiCommand {
    @Parameters(paramLabel = "JOB_ID", arity = "1..*")
    List<String> ids;

    @Override
    int run() {
      JsonArray jobIds = new JsonArray();
      ids.forEach(id -> jobIds.add(jobId(id)));
      JsonObject body = new JsonObject();
      body.add("job_ids", jobIds);
      JsonObject result = api().post("/v1/admin/jobs/requeue", body);
      if (json()) {
        Output.json(out(), result);
      } else {
        out().println("Re-queued " + Output.string(result, "requeued", "0") + " of " + ids.size() + " job(s).");
      }
      return Exit.OK;
    }
  }
}
