package ai.pingvas.payments.domain;

/** Ledger account names. User accounts may never go below zero; system accounts are the other side. */
public final class Accounts {
  public static final String STRIPE = "system:stripe";
  public static final String ALLOWANCE = "system:allowance";
  public static final String REVENUE = "system:revenue";
  public static final String ADJUSTMENTS = "system:adjustments";

  private Accounts() {
  }

  /** The user's spendable credits. */
  public static String available(String userId) {
    return "user:" + userId;
  }

  /** Credits held for the user's queued and running jobs. */
  public static String reserved(String userId) {
    return "user:" + userId + ":reserved";
  }
}
