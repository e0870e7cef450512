package ai.pingvas.protocol;

/** A frame that is not a valid protocol message; the receiver closes the connection with 1008. */
public class ProtocolException extends RuntimeException {
  public ProtocolException(String message) {
    super(message);
  }
}
