package ai.pingvas.platform.db;

import io.netty.buffer.ByteBuf;

/**
 * Counts the messages of given types in one direction of a Postgres protocol stream (after
 * start-up, every message is a type byte and a four-byte length), across buffers split anywhere.
 */
final class MessageCounter {
  private final byte[] types;
  private final byte[] header = new byte[5];
  private int headerBytes;
  private long bodyLeft;

  MessageCounter(char... types) {
    this.types = new byte[types.length];
    for (int i = 0; i < types.length; i++) {
      this.types[i] = (byte) types[i];
    }
  }

  /** Counts the messages of the types whose header is in {@code buf}; leaves its indexes alone. */
  int count(ByteBuf buf) {
    int index = buf.readerIndex();
    int end = buf.writerIndex();
    int counted = 0;
    while (index < end) {
      if (bodyLeft > 0) {
        int skip = (int) Math.min(bodyLeft, end - index);
        index += skip;
        bodyLeft -= skip;
        continue;
      }
      header[headerBytes++] = buf.getByte(index++);
      if (headerBytes == header.length) {
        headerBytes = 0;
        long length = ((header[1] & 0xffL) << 24) | ((header[2] & 0xff) << 16) | ((header[3] & 0xff) << 8)
            | (header[4] & 0xff);
        bodyLeft = Math.max(0, length - 4); // the length counts itself
        for (byte type : types) {
          if (header[0] == type) {
            counted++;
            break;
          }
        }
      }
    }
    return counted;
  }
}
