package ai.pingvas.users.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Rotation without downtime, as pure rules over the key ring: a new key is published
 * {@code publishAhead} before it signs, so every verifier can know it before it meets a token it
 * signed; the key it replaces stays published until the last token it signed has expired
 * ({@code keepAfter} = access-token lifetime plus leeway).
 */
public record KeyPolicy(Duration rotateEvery, Duration publishAhead, Duration keepAfter) {

  /** The key that signs now: the newest whose {@code signsFrom} has passed. */
  public Optional<SigningKey> signer(List<SigningKey> keys, Instant now) {
    return keys.stream().filter(k -> !k.signsFrom().isAfter(now)).max(Comparator.comparing(SigningKey::signsFrom));
  }

  /** The keys in the JWK Set: pending ones, the signer, and retired ones whose tokens may still be valid. */
  public List<SigningKey> published(List<SigningKey> keys, Instant now) {
    return keys.stream().filter(k -> {
      Optional<Instant> supersededAt = keys.stream().map(SigningKey::signsFrom)
          .filter(t -> t.isAfter(k.signsFrom()) && !t.isAfter(now)).min(Comparator.naturalOrder());
      return supersededAt.isEmpty() || now.isBefore(supersededAt.get().plus(keepAfter));
    }).toList();
  }

  /** Whether a new key is due: none exists, or the newest (by {@code signsFrom}) is {@code rotateEvery} old. */
  public boolean rotationDue(List<SigningKey> keys, Instant now) {
    return keys.stream().map(SigningKey::signsFrom).max(Comparator.naturalOrder())
        .map(newest -> !newest.plus(rotateEvery).isAfter(now)).orElse(true);
  }

  /** When a key made now starts signing: at once for the very first key, else after the publish-ahead. */
  public Instant signsFrom(List<SigningKey> keys, Instant now) {
    return keys.isEmpty() ? now : now.plus(publishAhead);
  }
}
