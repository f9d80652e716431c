package dev.nfnets.serve;

/**
 * A request the server refuses: an HTTP status, a stable machine-readable {@code code} and a message that names
 * what was wrong. The server answers it as {@code {"error": {"status": 400, "code": "...", "message": "..."}}}.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String code;

    public ApiException(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }
}
