package ai.pingvas.users;

import ai.pingvas.testing.Http;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Brute-force brakes: per client IP on the unauthenticated endpoints and per account on password
 * logins. The service trusts X-Forwarded-For here, so each test acts from addresses of its own.
 */
class RateLimitIT {
  private static UserHarness users;

  @BeforeAll
  static void start() {
    users = new UserHarness("ratelimit").with("PINGVAS_RATELIMIT_AUTH_PER_IP", "5")
        .with("PINGVAS_RATELIMIT_LOGIN_PER_ACCOUNT", "3").with("PINGVAS_RATELIMIT_TRUST_FORWARDED_FOR", "true")
        .with("PINGVAS_RATELIMIT_SYNC_INTERVAL", "200ms").start();
  }

  @AfterAll
  static void stop() {
    users.close();
  }

  @Test
  void bruteForcingOneAccountIsRefusedWith429WhateverTheAddress() {
    JsonObject account = users.signUp();
    JsonObject guess = new JsonObject().put("grant_type", "password").put("email", account.getString("email"))
        .put("password", "not the password");
    for (int i = 0; i < 3; i++) {
      assertThat(login(guess, "10.0.1." + i).status()).isEqualTo(401);
    }
    Http.Response limited = login(guess.copy().put("password", "correct horse battery"), "10.0.1.99");
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.json().getString("code")).isEqualTo("rate_limited");
    assertThat(limited.headers().firstValue("Retry-After")).isPresent();
    // other accounts are not affected
    JsonObject other = users.signUp();
    assertThat(login(guess.copy().put("email", other.getString("email")).put("password", "correct horse battery"),
        "10.0.1.100").status()).isEqualTo(200);
  }

  @Test
  void guessesCountOnEveryReplica() throws Exception {
    JsonObject account = users.signUp();
    JsonObject guess = new JsonObject().put("grant_type", "password").put("email", account.getString("email"))
        .put("password", "not the password");
    try (UserHarness second = users.replica().start()) {
      for (int i = 0; i < 2; i++) {
        assertThat(login(guess, "10.0.5." + i).status()).isEqualTo(401);
      }
      Thread.sleep(1_000); // the first replica writes its count at its next sync (200 ms here)
      assertThat(second.http.post("/v1/auth/token", null, guess, "X-Forwarded-For", "10.0.5.2").status())
          .isEqualTo(401);
      Http.Response limited = second.http.post("/v1/auth/token", null,
          guess.copy().put("password", "correct horse battery"), "X-Forwarded-For", "10.0.5.3");
      assertThat(limited.status()).as("the third guess was the account's last, whichever replica took them: "
          + limited.body()).isEqualTo(429);
    }
  }

  @Test
  void spacesAroundTheEmailDoNotBuyMoreGuesses() {
    JsonObject account = users.signUp();
    String email = account.getString("email");
    JsonObject guess = new JsonObject().put("grant_type", "password").put("password", "not the password");
    String[] spellings = {email, " " + email, email + "\t", "  " + email.toUpperCase() + " "};
    for (int i = 0; i < 3; i++) {
      assertThat(login(guess.copy().put("email", spellings[i]), "10.0.4." + i).status()).isEqualTo(401);
    }
    Http.Response limited = login(guess.copy().put("email", spellings[3]).put("password", "correct horse battery"),
        "10.0.4.99");
    assertThat(limited.status()).as(limited.body()).isEqualTo(429);
  }

  @Test
  void oneAddressGetsAFixedNumberOfAuthRequestsPerMinute() {
    String ip = "10.0.2." + (UUID.randomUUID().hashCode() & 0x7f);
    JsonObject guess = new JsonObject().put("grant_type", "password").put("password", "whatever it is");
    for (int i = 0; i < 5; i++) {
      assertThat(login(guess.copy().put("email", "nobody" + i + "@example.com"), ip).status()).isEqualTo(401);
    }
    Http.Response limited = login(guess.copy().put("email", "nobody9@example.com"), ip);
    assertThat(limited.status()).isEqualTo(429);
    // counted over the last minute (sliding): the rest of this minute, then a fifth of the next for 5 to fade to 4
    assertThat(Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 72L);
    assertThat(users.http.post("/v1/users", null, new JsonObject().put("email", "late@example.com")
        .put("password", "long enough password"), "X-Forwarded-For", ip).status()).isEqualTo(429);
    assertThat(login(guess.copy().put("email", "nobody@example.com"), "10.0.3.1").status()).isEqualTo(401);
  }

  @Test
  void aSpellingThatPostgresMatchesButJavaLowerCasesApartIsNoFreshBudget() {
    // In a UTF-8 locale (as production's database has) Postgres's lower() makes "İ" an "i", so
    // "vİctim@..." finds the account of "victim@..."; Java's lower case of "İ" is "i" plus a dot
    // above, so a limiter keyed by Java's lower case gave each such spelling a budget of its own.
    try (UserHarness utf8 = UserHarness.withCtype("ratelimit_utf8", "C.utf8")
        .with("PINGVAS_RATELIMIT_AUTH_PER_IP", "100").with("PINGVAS_RATELIMIT_LOGIN_PER_ACCOUNT", "3")
        .with("PINGVAS_RATELIMIT_TRUST_FORWARDED_FOR", "true").start()) {
      assertThat(utf8.query("SELECT lower('VİCTIM')")).as("the database's lower case").isEqualTo("victim");
      String email = "victim-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
      assertThat(utf8.http.post("/v1/users", null, new JsonObject().put("email", email)
          .put("password", "correct horse battery")).status()).isEqualTo(201);
      JsonObject guess = new JsonObject().put("grant_type", "password").put("email", email)
          .put("password", "not the password");
      for (int i = 0; i < 3; i++) {
        assertThat(utf8.http.post("/v1/auth/token", null, guess, "X-Forwarded-For", "10.0.6." + i).status())
            .isEqualTo(401);
      }
      String dotted = "v\u0130ctim" + email.substring("victim".length());
      Http.Response other = utf8.http.post("/v1/auth/token", null,
          guess.copy().put("email", dotted).put("password", "correct horse battery"), "X-Forwarded-For", "10.0.6.9");
      assertThat(other.status()).as("the same account by another spelling, after its budget is spent")
          .isEqualTo(429);
    }
  }

  private static Http.Response login(JsonObject body, String ip) {
    return users.http.post("/v1/auth/token", null, body, "X-Forwarded-For", ip);
  }
}
