package ai.pingvas.bench;

import io.vertx.core.json.JsonObject;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Writes the benchmark's results as JSON, a Markdown summary and a PNG chart of the timelines. */
final class Report {
  private Report() {
  }

  static void write(Path dir, JsonObject environment, JsonObject results, Map<String, List<long[]>> timelines)
      throws IOException {
    JsonObject json = new JsonObject().put("environment", environment).put("results", results.copy());
    JsonObject series = new JsonObject();
    timelines.forEach((name, rows) -> series.put(name, Bench.toArray(rows)));
    json.put("timelines", series);
    Files.writeString(dir.resolve("report.json"), json.encodePrettily());
    Files.writeString(dir.resolve("report.md"), markdown(json));
    if (!timelines.isEmpty()) {
      ImageIO.write(chart(timelines), "png", dir.resolve("report.png").toFile());
    }
  }

  /** Renders report.md again from a directory's report.json (after editing how reports read). */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    Files.writeString(dir.resolve("report.md"), markdown(new JsonObject(Files.readString(dir.resolve("report.json")))));
  }

  /** Where the machine's CPU went during a window (see {@link CpuUse}). */
  static String cpuTable(JsonObject cpu, String unit) {
    JsonObject cores = cpu.getJsonObject("cores");
    JsonObject perJob = cpu.getJsonObject("cpu_us_per_job");
    StringBuilder md = new StringBuilder("Where the CPU went in the measured window (").append(cpu.getValue("seconds"))
        .append(" s; the machine's ").append(cpu.getValue("cpus")).append(" CPUs were busy ")
        .append(cpu.getValue("machine_busy_cores")).append(" cores on average):\n\n")
        .append("| process | cores | CPU µs per ").append(unit).append(" |\n|---|---|---|\n");
    for (String name : cores.fieldNames()) {
      md.append("| ").append(name).append(" | ").append(cores.getValue(name)).append(" | ")
          .append(perJob.getValue(name, "—")).append(" |\n");
    }
    return md.append("| **all** | ").append(cpu.getValue("machine_busy_cores")).append(" | ")
        .append(perJob.getValue("all")).append(" |\n\n").toString();
  }

  private static String markdown(JsonObject json) {
    JsonObject env = json.getJsonObject("environment");
    JsonObject r = json.getJsonObject("results");
    StringBuilder md = new StringBuilder("# Router benchmark\n\n");
    md.append("Run ").append(env.getString("date")).append(" on ").append(env.getInteger("cpus"))
        .append(" CPUs, Java ").append(env.getString("java")).append(". ").append(env.getString("postgres"))
        .append("; ").append(env.getString("kafka")).append(". Router JVM ").append(env.getString("router_jvm"))
        .append(". ").append(env.getString("note")).append(".\n\n");
    // scenarios re-measured into an existing report (PINGVAS_BENCH_MERGE) say when each was measured
    StringBuilder when = new StringBuilder();
    boolean merged = r.fieldNames().stream().anyMatch(k -> r.getJsonObject(k).containsKey("measured_by"));
    r.forEach(e -> {
      JsonObject result = (JsonObject) e.getValue();
      String at = result.getString("measured_at", result.getString("measured_by"));
      if (merged && at != null) {
        when.append(when.length() == 0 ? "" : ", ").append(e.getKey()).append(result.containsKey("measured_at")
            ? " at " : " by ").append(at, 0, Math.min(at.length(), 19));
      }
    });
    if (when.length() > 0) {
      md.append("Measured in more than one run of the same router build: ").append(when).append(" (UTC).\n\n");
    }
    if (r.containsKey("fleet-model")) {
      JsonObject m = r.getJsonObject("fleet-model");
      md.append("## fleet model (the router's policy classes in a discrete-event simulation, no system)\n\n")
          .append(m.getString("setup")).append(".\n\n| policy | arrivals | makespan / ideal | GPU busy |")
          .append(" busy / ideal's | model loads | job p50 | job p99 |\n|---|---|---|---|---|---|---|---|\n");
      for (String policy : new String[] {"affinity", "least-loaded", "round-robin"}) {
        for (String arrivals : new String[] {"batch", "poisson_90pct"}) {
          JsonObject x = m.getJsonObject(policy) == null ? null : m.getJsonObject(policy).getJsonObject(arrivals);
          if (x != null) {
            md.append("| ").append(policy).append(" | ").append(arrivals).append(" | ")
                .append(x.getValue("makespan_over_ideal")).append(" | ").append(x.getValue("gpu_busy_fraction"))
                .append(" | ").append(arrivals.equals("batch") ? x.getValue("busy_over_cold_start_ideal") : "—")
                .append(" | ").append(x.getValue("model_loads")).append(" | ").append(x.getValue("job_latency_p50_s"))
                .append(" s | ").append(x.getValue("job_latency_p99_s")).append(" s |\n");
          }
        }
      }
      JsonObject live = m.getJsonObject("like_live_fleet");
      if (live != null) {
        md.append("\nAt the live fleet scenario's scale (").append(live.getString("setup")).append("), the policy alone: ")
            .append("makespan ").append(live.getValue("makespan_over_ideal")).append(" × ideal, GPU busy ")
            .append(live.getValue("gpu_busy_fraction")).append(" (").append(live.getValue("busy_over_cold_start_ideal"))
            .append(" of the ideal's), model loads ").append(live.getValue("model_loads"))
            .append(" (loading takes ").append(live.getValue("load_fraction")).append(" of GPU time); over ")
            .append(live.getValue("seeds")).append(" other draws of the models busy is ")
            .append(live.getValue("seeds_busy_over_ideal_mean")).append(" of the ideal's on average (")
            .append(live.getValue("seeds_busy_over_ideal_min")).append("–")
            .append(live.getValue("seeds_busy_over_ideal_max"))
            .append("), ").append(live.getValue("seeds_model_loads_mean")).append(" loads.");
        JsonObject ramp = live.getJsonObject("ramp");
        if (ramp != null) {
          md.append(" Submitted evenly over ").append(ramp.getValue("ms"))
              .append(" ms instead (~4,300 jobs/s, about what the throughput scenario accepts; the live run ")
              .append("submits them as fast as the router takes them), so the first loads follow the first jobs ")
              .append("to arrive: busy ").append(ramp.getValue("busy_over_cold_start_ideal"))
              .append(" of the ideal's, ").append(ramp.getValue("model_loads")).append(" loads; over the other draws ")
              .append(ramp.getValue("seeds_busy_over_ideal_mean")).append(" (")
              .append(ramp.getValue("seeds_busy_over_ideal_min")).append("–")
              .append(ramp.getValue("seeds_busy_over_ideal_max")).append("), ")
              .append(ramp.getValue("seeds_model_loads_mean")).append(" loads.");
        }
        md.append("\n");
      }
      md.append("\n");
    }
    if (r.containsKey("throughput")) {
      JsonObject t = r.getJsonObject("throughput");
      md.append("## throughput\n\n").append("| accepted jobs/s | completed jobs/s | submit p50 | submit p99 |")
          .append(" placed at admission | target |\n|---|---|---|---|---|---|\n| ")
          .append(t.getValue("accepted_per_s")).append(" | ").append(t.getValue("completed_per_s")).append(" | ")
          .append(t.getJsonObject("submit_response_ms").getValue("p50")).append(" ms | ")
          .append(t.getJsonObject("submit_response_ms").getValue("p99")).append(" ms | ")
          .append(t.getValue("placed_at_admission_share", "—")).append(" | ")
          .append(t.getString("target")).append(" |\n\nPlaced at admission: the share of jobs stored already ")
          .append("dispatched in their submission's commit (one transaction) instead of queued and then claimed.\n\n");
      if (t.containsKey("cpu")) {
        md.append(cpuTable(t.getJsonObject("cpu"), "accepted job"));
      }
    }
    if (r.containsKey("latency")) {
      JsonObject l = r.getJsonObject("latency");
      md.append("## latency (submit → the worker has the assign)\n\n| rate | jobs | p50 | p90 | p99 | max |\n")
          .append("|---|---|---|---|---|---|\n");
      for (String rate : new String[] {"200_per_s", "1000_per_s"}) {
        JsonObject x = l.getJsonObject(rate);
        if (x != null) {
          md.append("| ").append(rate.replace("_per_s", "/s")).append(" | ").append(x.getValue("jobs")).append(" | ")
              .append(x.getValue("p50_ms")).append(" ms | ").append(x.getValue("p90_ms")).append(" ms | ")
              .append(x.getValue("p99_ms")).append(" ms | ").append(x.getValue("max_ms")).append(" ms |\n");
        }
      }
      md.append("\nTarget: ").append(l.getString("target")).append(".\n\n");
    }
    if (r.containsKey("fleet")) {
      JsonObject f = r.getJsonObject("fleet");
      md.append("## fleet (").append(f.getValue("gpus")).append(" GPUs, ").append(f.getValue("models"))
          .append(" models Zipf(1.1), ").append(f.getValue("jobs")).append(" jobs; ").append(f.getString("time_scale"))
          .append(")\n\n| policy | makespan | / ideal | GPU busy | busy / ideal's | model loads | job p50 | job p99 |")
          .append(" dispatch turnover avg | claimed ahead |\n|---|---|---|---|---|---|---|---|---|---|\n");
      for (String policy : new String[] {"affinity", "least-loaded", "round-robin", "affinity_prequeued"}) {
        JsonObject p = f.getJsonObject(policy);
        if (p != null) {
          md.append("| ").append(policy.equals("affinity_prequeued") ? "affinity, jobs queued before the fleet connects"
                  : policy).append(p.getLong("non_202", 0L) > 0 ? " (" + p.getLong("non_202") + " submissions not accepted)"
                  : "").append(" | ").append(p.getValue("makespan_s")).append(" s | ")
              .append(p.getValue("makespan_over_ideal")).append(" | ").append(p.getValue("gpu_busy_fraction"))
              .append(" | ").append(p.getValue("busy_over_ideal")).append(" | ").append(p.getValue("model_loads"))
              .append(" | ").append(p.getValue("job_latency_p50_s")).append(" s | ")
              .append(p.getValue("job_latency_p99_s")).append(" s | ").append(p.getValue("turnover_ms_avg"))
              .append(" ms | ").append(p.getValue("claimed_ahead")).append(" |\n");
        }
      }
      md.append("\nDispatch turnover: a GPU's idle time from the end of its job to the start of its next (the ")
          .append("per-second averages are in report.json). The simulated workers, as ours, have a queue of one: ")
          .append("a busy GPU's next job is sent as soon as the router claimed it and starts the moment the running ")
          .append("job ends, so no turnover is left where the GPU had a next job. ")
          .append("With jobs queued first, makespan counts from the first assign and job latency includes the wait ")
          .append("for the fleet. Claimed ahead: jobs the router claimed for a busy GPU shortly before its job was ")
          .append("expected to end (sent at once into its queue). Ideal makespan ").append(f.getValue("ideal_makespan_s"))
          .append(" s (work / GPUs); the GPUs start empty, so no schedule beats ")
          .append(f.getValue("cold_start_ideal_makespan_s")).append(" s (one load first) or keeps them busier than ")
          .append(f.getValue("ideal_busy_fraction")).append(" (the ideal's busy fraction). Model loads vs least-loaded: ")
          .append(f.getValue("loads_vs_least_loaded")).append(". Target: ").append(f.getString("target")).append(".\n\n");
      JsonObject draws = f.getJsonObject("affinity_draws");
      if (draws != null) {
        md.append("Our policy on other draws of the models (the same Zipf(1.1) popularity; seed 42 is the run above):\n\n")
            .append("| draw (seed) | busy / ideal's | model loads | makespan / ideal |\n|---|---|---|---|\n");
        for (Object o : draws.getJsonArray("draws")) {
          JsonObject d = (JsonObject) o;
          md.append("| ").append(d.getValue("seed")).append(" | ").append(d.getValue("busy_over_ideal")).append(" | ")
              .append(d.getValue("model_loads")).append(" | ").append(d.getValue("makespan_over_ideal")).append(" |\n");
        }
        md.append("| **mean** | **").append(draws.getValue("mean_busy_over_ideal")).append("** | ")
            .append(draws.getValue("mean_model_loads")).append(" | |\n\n");
      }
      md.append("Where our policy's GPUs were not generating (GPU-seconds):\n\n| run | loading models |")
          .append(" dispatch turnovers | longer waits for work | simulator timer late | before the first assign |")
          .append(" after the last job |\n")
          .append("|---|---|---|---|---|---|---|\n");
      for (String policy : new String[] {"affinity", "affinity_prequeued"}) {
        JsonObject p = f.getJsonObject(policy);
        if (p != null && p.containsKey("idle_after_last_finish_s_total")) {
          md.append("| ").append(policy.equals("affinity") ? "submitted during the run" : "queued first").append(" | ")
              .append(Bench.round(p.getLong("model_loads") * f.getDouble("load_s", 0.0))).append(" | ")
              .append(Bench.round(p.getLong("turnovers") * p.getDouble("turnover_ms_avg") / 1000)).append(" | ")
              .append(p.getValue("longer_wait_s_total")).append(" | ").append(p.getValue("timer_overshoot_s_total"))
              .append(" | ").append(p.getValue("idle_before_first_assign_s_total")).append(" | ")
              .append(p.getValue("idle_after_last_finish_s_total")).append(" |\n");
        }
      }
      md.append("\n");
    }
    if (r.containsKey("fairness")) {
      JsonObject f = r.getJsonObject("fairness");
      md.append("## fairness\n\nA bursts ").append(f.getValue("a_jobs")).append(" jobs; B submits one every 200 ms (")
          .append(f.getValue("b_jobs")).append(" jobs) on ").append(f.getValue("workers")).append(" workers, ")
          .append(f.getValue("job_ms")).append(" ms jobs.\n\n| B wait p50 | B wait p99 | B wait max | p99 in job durations |")
          .append(" A wait p50 |\n|---|---|---|---|---|\n| ").append(f.getValue("b_wait_p50_ms")).append(" ms | ")
          .append(f.getValue("b_wait_p99_ms")).append(" ms | ").append(f.getValue("b_wait_max_ms")).append(" ms | ")
          .append(f.getValue("b_wait_p99_in_job_durations")).append(" | ").append(f.getValue("a_wait_p50_s"))
          .append(" s |\n\nB's submissions answered in p50 ").append(f.getValue("b_submit_response_p50_ms"))
          .append(" ms, p99 ").append(f.getValue("b_submit_response_p99_ms"))
          .append(" ms (part of its wait). Target: ").append(f.getString("target")).append(".\n\n");
    }
    if (r.containsKey("chaos")) {
      JsonObject c = r.getJsonObject("chaos");
      md.append("## chaos (kill -9 a third of the workers, then one of two router replicas)\n\n")
          .append("| accepted | succeeded | lost | duplicate completions | all done after the router kill |\n")
          .append("|---|---|---|---|---|\n| ").append(c.getValue("accepted")).append(" | ").append(c.getValue("succeeded"))
          .append(" | ").append(c.getValue("lost")).append(" | ").append(c.getValue("duplicate_completions")).append(" | ")
          .append(c.getValue("all_done_after_router_kill_s")).append(" s |\n\n");
    }
    if (r.containsKey("capacity")) {
      JsonObject c = r.getJsonObject("capacity");
      md.append("## capacity\n\n| queued | running | workers | router heap after GC | submissions/s |\n")
          .append("|---|---|---|---|---|\n| ").append(c.getValue("queued")).append(" | ").append(c.getValue("running"))
          .append(" | ").append(c.getValue("connected_workers")).append(" | ").append(c.getValue("heap_after_gc_mb"))
          .append(" MiB (target ≤ ").append(c.getValue("max_heap_mb")).append(") | ").append(c.getValue("submission_rate_per_s"))
          .append(" |\n\n");
    }
    md.append("Raw numbers: `report.json`; per-second timelines (accepted/completed jobs, slowest assign per second of "
        + "submission): `report.png`.\n");
    return md.toString();
  }

  private static BufferedImage chart(Map<String, List<long[]>> timelines) {
    int width = 900;
    int panel = 260;
    BufferedImage image = new BufferedImage(width, panel * timelines.size() + 20, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, image.getWidth(), image.getHeight());
    int top = 10;
    for (Map.Entry<String, List<long[]>> entry : timelines.entrySet()) {
      List<long[]> rows;
      synchronized (entry.getValue()) {
        rows = List.copyOf(entry.getValue());
      }
      long max = 1;
      long seconds = 1;
      for (long[] row : rows) {
        max = Math.max(max, Math.max(row[1], row[2]));
        seconds = Math.max(seconds, row[0]);
      }
      int x0 = 60;
      int y0 = top + panel - 40;
      int w = width - 90;
      int h = panel - 70;
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
      g.drawString(entry.getKey() + (entry.getKey().startsWith("latency")
          ? ": by second of submission (blue jobs, green slowest submit-to-assign in ms)"
          : ": jobs per second (blue accepted, green completed)"), x0, top + 16);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      g.drawLine(x0, y0, x0 + w, y0);
      g.drawLine(x0, y0, x0, y0 - h);
      g.drawString(Long.toString(max), 5, y0 - h + 5);
      g.drawString("0", 40, y0 + 4);
      g.drawString(seconds + " s", x0 + w - 20, y0 + 15);
      for (int series = 1; series <= 2; series++) {
        g.setColor(series == 1 ? new Color(40, 90, 200) : new Color(30, 150, 60));
        g.setStroke(new BasicStroke(2f));
        int px = -1;
        int py = -1;
        for (long[] row : rows) {
          int x = x0 + (int) (w * row[0] / (double) seconds);
          int y = y0 - (int) (h * row[series] / (double) max);
          if (px >= 0) {
            g.drawLine(px, py, x, y);
          }
          px = x;
          py = y;
        }
      }
      top += panel;
    }
    g.dispose();
    return image;
  }
}
