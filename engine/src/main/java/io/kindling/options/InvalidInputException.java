package io.kindling.options;

/**
 * An input Kindling refuses (an engine setting, a request, a sampling parameter, a constraint, an option), naming
 * what is at fault apart from what is wrong with it: each front end names the fault its own way (a flag, a map
 * key, a row) and keeps the problem's words.
 */
public abstract class InvalidInputException extends IllegalArgumentException {

    private final String subject;
    private final String problem;

    /** @param message the whole message, naming {@code subject} as the engine does */
    protected InvalidInputException(String message, String subject, String problem) {
        super(message);
        this.subject = subject;
        this.problem = problem;
    }

    /** What is at fault, as the thrower spells it; each subclass says which kind of name it is. */
    protected String subject() {
        return subject;
    }

    /** What is wrong, without naming what is at fault. */
    public String problem() {
        return problem;
    }
}
