package com.cloudaeye.agent.examples;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The checks the jshell scripts make on the files and directories they are given, before any change: one place, so
 * that every script reports a missing or unusable input the same way. A bare {@code NoSuchFileException} says only
 * {@code plan.json}; these say which path was looked for, what is wrong with it and how to fix it (the variable that
 * sets it, the script that writes it), and that nothing was changed:
 *
 * <pre>{@code
 * Path planFile = ScriptFiles.readableFile(Path.of(env("CLOUDAEYE_PLAN", "plan.json")), "The plan file {path}",
 *         "save a plan first with lambda-plan.jsh ..., or set CLOUDAEYE_PLAN to a saved plan's path.");
 * }</pre>
 *
 * Each check throws an {@link IllegalArgumentException} whose message the script prints after its name ({@code
 * apply.jsh failed: ...}).
 */
public final class ScriptFiles {
    /** The last sentence of every message: a script checks its inputs before it changes anything. */
    public static final String NOTHING_CHANGED = "Nothing was changed.";

    private static final String PATH = "{path}";

    private ScriptFiles() {}

    /**
     * Checks that an input file exists, is a file and can be read.
     *
     * @param file the file, relative to the working directory or absolute
     * @param subject what the file is, with {@code {path}} where its absolute path goes ({@code The plan file {path}})
     * @param fix what to do, a sentence: which script writes the file, which variable names another one
     * @return the file's absolute path
     * @throws IllegalArgumentException naming the absolute path, what is wrong with it, the fix, and that nothing was
     *     changed
     */
    public static Path readableFile(Path file, String subject, String fix) {
        Path absolute = absolute(file);
        String problem;
        if (!Files.exists(absolute)) {
            problem = "does not exist";
        } else if (Files.isDirectory(absolute)) {
            problem = "is a directory, not a file";
        } else if (!Files.isRegularFile(absolute)) {
            problem = "is not a regular file";
        } else if (!Files.isReadable(absolute)) {
            problem = "cannot be read by this user (check its permissions)";
        } else {
            return absolute;
        }
        throw refusal(subject, absolute, problem, fix);
    }

    /**
     * Reads an input file as {@link #readableFile(Path, String, String)} checks it.
     *
     * @param file the file, relative to the working directory or absolute
     * @param subject what the file is, with {@code {path}} where its absolute path goes
     * @param fix what to do, a sentence
     * @return its text (UTF-8)
     * @throws IllegalArgumentException when it is missing or cannot be read, naming the path and the fix
     */
    public static String readString(Path file, String subject, String fix) {
        Path absolute = readableFile(file, subject, fix);
        try {
            return Files.readString(absolute, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw refusal(subject, absolute, "cannot be read (" + e + ")", fix);
        }
    }

    /**
     * Checks that an input directory exists.
     *
     * @param directory the directory, relative to the working directory or absolute
     * @param subject what the directory is, with {@code {path}} where its absolute path goes
     * @param fix what to do, a sentence
     * @return the directory's absolute path
     * @throws IllegalArgumentException naming the absolute path, what is wrong with it and the fix
     */
    public static Path existingDirectory(Path directory, String subject, String fix) {
        Path absolute = absolute(directory);
        if (Files.isDirectory(absolute)) {
            return absolute;
        }
        throw refusal(subject, absolute, Files.exists(absolute) ? "is not a directory" : "does not exist", fix);
    }

    /**
     * Checks that a file a script will create later, after changes began, can be created: it does not exist yet
     * (nothing is overwritten), and its directory exists and is writable. A script that learns this only when it
     * writes the file has already changed something.
     *
     * @param file the file, relative to the working directory or absolute
     * @param variable the environment variable that named it
     * @return the file's absolute path
     * @throws IllegalArgumentException naming the variable, the file or its directory, and the fix
     */
    public static Path newFile(Path file, String variable) {
        Path absolute = absolute(file);
        String names = variable + " names " + absolute;
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(
                    names + ", which exists: name a new file, so that nothing is overwritten. " + NOTHING_CHANGED);
        }
        Path directory = absolute.getParent();
        String elsewhere = "name a new file in an existing directory you can write to. " + NOTHING_CHANGED;
        if (directory == null || !Files.exists(directory)) {
            throw new IllegalArgumentException(names + ", whose directory " + directory + " does not exist: create it"
                    + " first (mkdir -m 700 " + directory + ") or " + elsewhere);
        }
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException(
                    names + ", whose parent " + directory + " is not a directory: " + elsewhere);
        }
        if (!Files.isWritable(directory)) {
            throw new IllegalArgumentException(names + ", whose directory " + directory + " is not writable by this"
                    + " user: make it writable (chmod u+w " + directory + ") or " + elsewhere);
        }
        return absolute;
    }

    /**
     * Checks that a file a script writes once its changes are made (the result, the file naming the journal) can be
     * written then: when it exists, it is a file this user can write; when not, its directory is writable. A script
     * that learns this only after the apply has made changes it cannot report.
     *
     * @param file the file, relative to the working directory or absolute
     * @param subject what the file is, with {@code {path}} where its absolute path goes
     * @param fix what to do, a sentence
     * @return the file's absolute path
     * @throws IllegalArgumentException naming the absolute path, what is wrong with it and the fix
     */
    public static Path writableFile(Path file, String subject, String fix) {
        Path absolute = absolute(file);
        Path directory = absolute.getParent();
        String problem;
        if (Files.isDirectory(absolute)) {
            problem = "is a directory, not a file";
        } else if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isWritable(absolute)) {
                return absolute;
            }
            problem = "cannot be written by this user";
        } else if (directory != null && Files.isDirectory(directory) && Files.isWritable(directory)) {
            return absolute;
        } else {
            problem =
                    "cannot be created: its directory " + directory + " does not exist or is not writable by this user";
        }
        throw refusal(subject, absolute, problem, fix);
    }

    private static Path absolute(Path path) {
        return path.toAbsolutePath().normalize();
    }

    private static IllegalArgumentException refusal(String subject, Path path, String problem, String fix) {
        return new IllegalArgumentException(
                subject.replace(PATH, path.toString()) + " " + problem + ": " + fix + " " + NOTHING_CHANGED);
    }
}
