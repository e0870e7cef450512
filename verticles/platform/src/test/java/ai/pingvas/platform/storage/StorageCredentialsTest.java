package ai.pingvas.platform.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.pingvas.platform.config.ConfigException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

class StorageCredentialsTest {
  @Test
  void configuredKeysAreUsedAsTheyAre() {
    var identity = StorageCredentials.of("AKIDEXAMPLE", "s3cr3t").resolveCredentials();
    assertThat(identity.accessKeyId()).isEqualTo("AKIDEXAMPLE");
    assertThat(identity.secretAccessKey()).isEqualTo("s3cr3t");
  }

  @Test
  void noKeysMeanTheDefaultChain() {
    assertThat(StorageCredentials.of(null, null)).isInstanceOf(DefaultCredentialsProvider.class);
    assertThat(StorageCredentials.of("", "")).isInstanceOf(DefaultCredentialsProvider.class);
  }

  @Test
  void anAccessKeyWithoutItsSecretIsAConfigurationError() {
    // it used to sign with an empty secret: every request refused, reported as "access denied"
    assertThatThrownBy(() -> StorageCredentials.of("AKIDEXAMPLE", "")).isInstanceOf(ConfigException.class)
        .hasMessageContaining("storage.secret-key");
  }
}
