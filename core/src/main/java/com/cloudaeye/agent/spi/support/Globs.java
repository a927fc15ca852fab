package com.cloudaeye.agent.spi.support;

import java.util.regex.Pattern;

/** Globs with {@code *} (any run of characters) and {@code ?} (one character), as IAM and AWS names use them. */
public final class Globs {
    private Globs() {}

    /**
     * @param glob a glob, e.g. {@code orders-*}
     * @param ignoreCase whether letters match regardless of case (IAM actions do)
     * @return a pattern that matches whole strings
     */
    public static Pattern toPattern(String glob, boolean ignoreCase) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> regex.append(".*");
                case '?' -> regex.append('.');
                default -> regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString(), ignoreCase ? Pattern.CASE_INSENSITIVE : 0);
    }

    /**
     * @param s a name or a glob
     * @return true when it has a wildcard
     */
    public static boolean isGlob(String s) {
        return s.indexOf('*') >= 0 || s.indexOf('?') >= 0;
    }
}
