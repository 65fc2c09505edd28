package io.kindling.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;

/** Messages about the JSON files of a tokenizer. */
final class JsonFiles {

    private JsonFiles() {
    }

    /** Jackson's problem and where it is, on one line (its own message adds the source on a second one). */
    static String problem(IOException e) {
        if (e instanceof JsonProcessingException j && j.getOriginalMessage() != null) {
            return j.getOriginalMessage().replaceAll("\\s*\\R\\s*", " ") + (j.getLocation() == null ? ""
                    : " (line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() + ")");
        }
        return String.valueOf(e.getMessage());
    }
}
