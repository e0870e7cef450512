package ai.pingvas.embedded;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Postgres, Kafka and S3 on this machine, started in parallel. The dev stack keeps them under its
 * data folder; tests start one set per JVM and share it across test classes.
 */
public final class LocalInfra implements AutoCloseable {
  private final PostgresServer postgres;
  private final KafkaServer kafka;
  private final S3Server s3;

  private final boolean owner;

  private LocalInfra(PostgresServer postgres, KafkaServer kafka, S3Server s3) {
    this(postgres, kafka, s3, true);
  }

  private LocalInfra(PostgresServer postgres, KafkaServer kafka, S3Server s3, boolean owner) {
    this.postgres = postgres;
    this.kafka = kafka;
    this.s3 = s3;
    this.owner = owner;
  }

  /** A view over servers owned elsewhere (closing it stops nothing). */
  public static LocalInfra borrowing(PostgresServer postgres, KafkaServer kafka, S3Server s3) {
    return new LocalInfra(postgres, kafka, s3, false);
  }

  /** What to start; a null port means any free port. */
  public record Options(Path dataDir, int postgresPort, int kafkaPort, int s3Port, boolean durable,
      boolean startPostgres, boolean startKafka, boolean startS3, List<String> buckets) {
  }

  public static LocalInfra start(Options options) {
    try {
      CompletableFuture<PostgresServer> pg = options.startPostgres()
          ? CompletableFuture.supplyAsync(() -> PostgresServer.start(options.dataDir().resolve("postgres"),
              options.postgresPort(), options.durable()))
          : CompletableFuture.completedFuture(null);
      CompletableFuture<KafkaServer> kafka = options.startKafka()
          ? CompletableFuture.supplyAsync(() -> KafkaServer.start(options.dataDir().resolve("kafka"),
              options.kafkaPort()))
          : CompletableFuture.completedFuture(null);
      CompletableFuture<S3Server> s3 = options.startS3()
          ? CompletableFuture.supplyAsync(() -> S3Server.start(options.dataDir().resolve("s3"),
              options.s3Port(), options.buckets()))
          : CompletableFuture.completedFuture(null);
      return new LocalInfra(pg.join(), kafka.join(), s3.join());
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : e;
    }
  }

  public PostgresServer postgres() {
    return postgres;
  }

  public KafkaServer kafka() {
    return kafka;
  }

  public S3Server s3() {
    return s3;
  }

  @Override
  public void close() {
    if (!owner) {
      return;
    }
    if (s3 != null) {
      s3.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }
}
