package io.kindling.spark;

import java.io.Serializable;

/** What an executor needs of one call: its options and whether it returns the struct. */
record LlmCallSpec(LlmOptions options, boolean struct) implements Serializable {
}
