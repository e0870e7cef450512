package ai.pingvas.infra;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/**
 * Policy for one Terraform stack, read from hcl2json's JSON (blocks are arrays; expressions are "${...}" strings).
 * Rules: versions pinned, one tags block applied everywhere, encryption on, nothing public.
 */
final class TerraformPolicy {
  /** One broken rule: which rule, where (file and block address), and why. */
  record Violation(String rule, String file, String address, String message) {
    @Override
    public String toString() {
      return rule + " " + file + " " + address + ": " + message;
    }
  }

  private static final Pattern EXACT_VERSION = Pattern.compile("=?\\s*\\d+\\.\\d+\\.\\d+");
  private static final String ANYWHERE = "0.0.0.0/0";

  private final List<Violation> violations = new ArrayList<>();
  private int localsBlocks;
  private int tagLocals;

  private TerraformPolicy() {
  }

  /** Checks a stack: its .tf files and, optionally, .tfvars files (by file name). */
  static List<Violation> check(Map<String, JsonObject> files) {
    TerraformPolicy policy = new TerraformPolicy();
    files.forEach((file, body) -> {
      if (file.endsWith(".tfvars")) {
        policy.tfvars(file, body);
      } else {
        policy.file(file, body);
      }
    });
    boolean hasTf = files.keySet().stream().anyMatch(f -> f.endsWith(".tf"));
    if (hasTf && (policy.localsBlocks != 1 || policy.tagLocals != 1)) {
      policy.fail("tags-locals", "(stack)", "locals", "expected exactly one locals block, defining tags; found "
          + policy.localsBlocks + " locals block(s), " + policy.tagLocals + " defining tags");
    }
    return policy.violations;
  }

  private void file(String file, JsonObject body) {
    for (Object locals : array(body.getValue("locals"))) {
      localsBlocks++;
      if (locals instanceof JsonObject l && l.containsKey("tags")) {
        tagLocals++;
      }
    }
    each(body.getJsonObject("module"), (name, m) -> module(file, "module." + name, m));
    JsonObject resources = body.getJsonObject("resource", new JsonObject());
    for (String type : resources.fieldNames()) {
      each(resources.getJsonObject(type), (name, r) -> resource(file, type + "." + name, type, r));
    }
    each(body.getJsonObject("provider"), (name, p) -> provider(file, "provider." + name, name, p));
    each(body.getJsonObject("variable"), (name, v) -> cidrValue(file, "var." + name, name, v.getValue("default")));
    for (Object t : array(body.getValue("terraform"))) {
      terraform(file, (JsonObject) t);
    }
  }

  private void tfvars(String file, JsonObject body) {
    for (String name : body.fieldNames()) {
      cidrValue(file, name, name, body.getValue(name));
    }
  }

  private void terraform(String file, JsonObject t) {
    JsonObject requiredProviders = new JsonObject();
    for (Object rp : array(t.getValue("required_providers"))) {
      requiredProviders.mergeIn((JsonObject) rp);
    }
    if (!requiredProviders.isEmpty() && !t.containsKey("required_version")) {
      fail("provider-pinned", file, "terraform", "required_version is missing");
    }
    for (String name : requiredProviders.fieldNames()) {
      Object spec = requiredProviders.getValue(name);
      String version = spec instanceof JsonObject o ? o.getString("version") : null;
      if (!(spec instanceof JsonObject o) || o.getString("source") == null) {
        fail("provider-pinned", file, "provider " + name, "needs a source");
      }
      if (version == null || !EXACT_VERSION.matcher(version).matches()) {
        fail("provider-pinned", file, "provider " + name, "version must be exact (x.y.z), is " + version);
      }
    }
    JsonObject backend = t.getJsonObject("backend", new JsonObject());
    for (Object s3 : array(backend.getValue("s3"))) {
      JsonObject b = (JsonObject) s3;
      if (!isTrue(b.getValue("encrypt"))) {
        fail("encryption", file, "backend.s3", "state must be encrypted (encrypt = true)");
      }
      if (!isTrue(b.getValue("use_lockfile")) && b.getValue("dynamodb_table") == null) {
        fail("state-locking", file, "backend.s3", "state must be locked (use_lockfile or dynamodb_table)");
      }
    }
  }

  private void provider(String file, String address, String name, JsonObject p) {
    if (!name.equals("aws")) {
      return;
    }
    String tags = null;
    for (Object dt : array(p.getValue("default_tags"))) {
      tags = String.valueOf(((JsonObject) dt).getValue("tags"));
    }
    if (tags == null || !tags.contains("local.tags")) {
      fail("tags-provider", file, address, "default_tags must apply local.tags");
    }
  }

  private void module(String file, String address, JsonObject m) {
    String source = m.getString("source", "");
    String version = m.getString("version");
    boolean local = source.startsWith("./") || source.startsWith("../");
    if (source.startsWith("git::") || source.contains("github.com/")) {
      if (!source.matches(".*\\?ref=[\\w.\\-]+$")) {
        fail("module-pinned", file, address, "git source must pin ?ref=<tag or commit>");
      }
    } else if (!local && (version == null || !EXACT_VERSION.matcher(version).matches())) {
      fail("module-pinned", file, address, "registry module needs an exact version (x.y.z), has " + version);
    }
    if (!String.valueOf(m.getValue("tags")).contains("local.tags")) {
      fail("tags-module", file, address, "must pass tags = local.tags");
    }
    if (source.contains("/s3-bucket/")) {
      bucket(file, address, m);
    } else if (source.contains("/rds/")) {
      database(file, address, m);
    } else if (source.contains("/msk-kafka-cluster/")) {
      kafka(file, address, m);
    } else if (source.matches(".*/eks/aws$")) {
      cluster(file, address, m);
    } else if (source.contains("/security-group/")) {
      openIngress(file, address, m.getValue("ingress_cidr_blocks"));
      for (Object rule : array(m.getValue("ingress_with_cidr_blocks"))) {
        openIngress(file, address, rule instanceof JsonObject r ? r.getValue("cidr_blocks") : rule);
      }
    }
  }

  private void bucket(String file, String address, JsonObject m) {
    for (String setting : List.of("block_public_acls", "block_public_policy", "ignore_public_acls",
        "restrict_public_buckets")) {
      if (!isTrue(m.getValue(setting))) {
        fail("public", file, address, setting + " must be true");
      }
    }
    if (String.valueOf(m.getValue("acl")).startsWith("public")) {
      fail("public", file, address, "acl must not be public");
    }
    if (m.getValue("server_side_encryption_configuration") == null) {
      fail("encryption", file, address, "server_side_encryption_configuration is required");
    }
  }

  private void database(String file, String address, JsonObject m) {
    if (!isFalse(m.getValue("publicly_accessible"))) {
      fail("public", file, address, "publicly_accessible must be false");
    }
    if (!isTrue(m.getValue("storage_encrypted"))) {
      fail("encryption", file, address, "storage_encrypted must be true");
    }
  }

  private void kafka(String file, String address, JsonObject m) {
    if (!"TLS".equals(m.getValue("encryption_in_transit_client_broker"))) {
      fail("encryption", file, address, "encryption_in_transit_client_broker must be TLS");
    }
    if (isFalse(m.getValue("encryption_in_transit_in_cluster"))) {
      fail("encryption", file, address, "encryption_in_transit_in_cluster must not be false");
    }
    if (String.valueOf(m.getValue("broker_node_connectivity_info")).contains("SERVICE_PROVIDED_EIPS")) {
      fail("public", file, address, "brokers must not have public access");
    }
  }

  private void cluster(String file, String address, JsonObject m) {
    if (isFalse(m.getValue("create_kms_key")) && m.getValue("cluster_encryption_config") == null) {
      fail("encryption", file, address, "Kubernetes secrets must be encrypted with KMS");
    }
    if (isTrue(m.getValue("cluster_endpoint_public_access"))) {
      Object cidrs = m.getValue("cluster_endpoint_public_access_cidrs");
      if (cidrs == null || String.valueOf(cidrs).contains(ANYWHERE)) {
        fail("public", file, address, "a public API endpoint needs cluster_endpoint_public_access_cidrs, "
            + "not " + ANYWHERE);
      }
    }
  }

  private void resource(String file, String address, String type, JsonObject r) {
    switch (type) {
      case "aws_db_instance", "aws_rds_cluster" -> database(file, address, r);
      case "aws_s3_bucket_public_access_block" -> bucketAccessBlock(file, address, r);
      case "aws_s3_bucket_acl" -> {
        if (String.valueOf(r.getValue("acl")).startsWith("public")) {
          fail("public", file, address, "acl must not be public");
        }
      }
      case "aws_s3_bucket" -> fail("encryption", file, address,
          "use terraform-aws-modules/s3-bucket (encryption and public access block enforced)");
      case "aws_kms_key" -> {
        if (!isTrue(r.getValue("enable_key_rotation"))) {
          fail("encryption", file, address, "enable_key_rotation must be true");
        }
      }
      case "aws_security_group" -> {
        for (Object ingress : array(r.getValue("ingress"))) {
          openIngress(file, address, ((JsonObject) ingress).getValue("cidr_blocks"));
        }
      }
      case "aws_security_group_rule" -> {
        if ("ingress".equals(r.getValue("type"))) {
          openIngress(file, address, r.getValue("cidr_blocks"));
        }
      }
      case "aws_vpc_security_group_ingress_rule" -> openIngress(file, address, r.getValue("cidr_ipv4"));
      case "helm_release" -> {
        String version = r.getString("version");
        if (version == null || !EXACT_VERSION.matcher(version).matches()) {
          fail("chart-pinned", file, address, "chart version must be exact (x.y.z), is " + version);
        }
      }
      default -> {
      }
    }
  }

  private void bucketAccessBlock(String file, String address, JsonObject r) {
    for (String setting : List.of("block_public_acls", "block_public_policy", "ignore_public_acls",
        "restrict_public_buckets")) {
      if (!isTrue(r.getValue(setting))) {
        fail("public", file, address, setting + " must be true");
      }
    }
  }

  private void openIngress(String file, String address, Object cidrs) {
    if (cidrs != null && String.valueOf(cidrs).contains(ANYWHERE)) {
      fail("public", file, address, "ingress from " + ANYWHERE);
    }
  }

  private void cidrValue(String file, String address, String name, Object value) {
    if (name.contains("cidr") && value != null && String.valueOf(value).contains(ANYWHERE)) {
      fail("public", file, address, ANYWHERE + " in " + name);
    }
  }

  private void fail(String rule, String file, String address, String message) {
    violations.add(new Violation(rule, file, address, message));
  }

  private static void each(JsonObject blocks, BiConsumer<String, JsonObject> action) {
    if (blocks == null) {
      return;
    }
    for (String name : blocks.fieldNames()) {
      for (Object block : array(blocks.getValue(name))) {
        action.accept(name, (JsonObject) block);
      }
    }
  }

  private static List<Object> array(Object value) {
    if (value instanceof JsonArray a) {
      return a.getList().stream().map(o -> o instanceof Map<?, ?> m ? new JsonObject(cast(m)) : o).toList();
    }
    return value == null ? List.of() : List.of(value);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> cast(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }

  private static boolean isTrue(Object value) {
    return Boolean.TRUE.equals(value) || "true".equals(value);
  }

  private static boolean isFalse(Object value) {
    return Boolean.FALSE.equals(value) || "false".equals(value);
  }
}
