package com.cloudaeye.agent.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scripts' checks of their input files: each refusal names the absolute path, the problem and the fix. */
class ScriptFilesTest {
    private static final String FIX = "save one with lambda-plan.jsh, or set CLOUDAEYE_PLAN.";

    @TempDir
    Path dir;

    @Test
    void readString_whenTheFileIsMissing_namesItsAbsolutePathTheFixAndThatNothingChanged() {
        Path file = dir.resolve("plans").resolve("..").resolve("plan.json");

        assertThatThrownBy(() -> ScriptFiles.readString(file, "The plan file {path}", FIX))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("The plan file " + dir.resolve("plan.json") + " does not exist: " + FIX
                        + " Nothing was changed.");
    }

    @Test
    void readableFile_whenThePathIsADirectory_saysSo() throws IOException {
        Path directory = Files.createDirectory(dir.resolve("plan.json"));

        assertThatThrownBy(() -> ScriptFiles.readableFile(directory, "The plan file {path}", FIX))
                .hasMessage(
                        "The plan file " + directory + " is a directory, not a file: " + FIX + " Nothing was changed.");
    }

    @Test
    void readString_whenTheFileIsThere_returnsItsText() throws IOException {
        Path file = Files.writeString(dir.resolve("plan.json"), "{\"kind\":\"INSTALL\"}");

        assertThat(ScriptFiles.readString(file, "The plan file {path}", FIX)).isEqualTo("{\"kind\":\"INSTALL\"}");
        assertThat(ScriptFiles.readableFile(file, "The plan file {path}", FIX)).isEqualTo(file);
    }

    @Test
    void newFile_whenItsDirectoryIsMissing_namesTheVariableTheDirectoryAndHowToCreateIt() {
        Path secrets = dir.resolve("secrets");

        assertThatThrownBy(() -> ScriptFiles.newFile(secrets.resolve("key"), "CLOUDAEYE_ACCESS_KEY_FILE"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("CLOUDAEYE_ACCESS_KEY_FILE names " + secrets.resolve("key") + ", whose directory " + secrets
                        + " does not exist: create it first (mkdir -m 700 " + secrets + ") or name a new file in an"
                        + " existing directory you can write to. Nothing was changed.");
    }

    @Test
    void newFile_whenItsParentIsAFileOrItExists_refuses() throws IOException {
        Path existing = Files.writeString(dir.resolve("key"), "old key");

        assertThatThrownBy(() -> ScriptFiles.newFile(existing, "CLOUDAEYE_ACCESS_KEY_FILE"))
                .hasMessage("CLOUDAEYE_ACCESS_KEY_FILE names " + existing + ", which exists: name a new file, so that"
                        + " nothing is overwritten. Nothing was changed.");
        assertThatThrownBy(() -> ScriptFiles.newFile(existing.resolve("key"), "CLOUDAEYE_ACCESS_KEY_FILE"))
                .hasMessage("CLOUDAEYE_ACCESS_KEY_FILE names " + existing.resolve("key") + ", whose parent " + existing
                        + " is not a directory: name a new file in an existing directory you can write to. Nothing"
                        + " was changed.");
        assertThat(Files.readString(existing)).isEqualTo("old key");
    }

    @Test
    void newFile_inAnExistingDirectory_returnsItsAbsolutePathAndCreatesNothing() {
        Path file = ScriptFiles.newFile(dir.resolve("key"), "CLOUDAEYE_ACCESS_KEY_FILE");

        assertThat(file).isEqualTo(dir.resolve("key")).doesNotExist();
    }

    @Test
    void existingDirectory_whenMissingOrAFile_namesThePathAndTheFix() throws IOException {
        Path missing = dir.resolve("journals");
        Path file = Files.writeString(dir.resolve("journal.jsonl"), "");

        assertThatThrownBy(() -> ScriptFiles.existingDirectory(missing, "The journal directory {path}", "set it."))
                .hasMessage("The journal directory " + missing + " does not exist: set it. Nothing was changed.");
        assertThatThrownBy(() -> ScriptFiles.existingDirectory(file, "The journal directory {path}", "set it."))
                .hasMessage("The journal directory " + file + " is not a directory: set it. Nothing was changed.");
        assertThat(ScriptFiles.existingDirectory(dir, "The journal directory {path}", "set it."))
                .isEqualTo(dir);
    }

    @Test
    void writableFile_whenTheOutputIsADirectory_refuses_andANewOrExistingFileIsWritable() throws IOException {
        Path directory = Files.createDirectory(dir.resolve("result.json"));
        Path existing = Files.writeString(dir.resolve("journal.txt"), "/old/journal");

        assertThatThrownBy(() -> ScriptFiles.writableFile(directory, "The output file {path}", "run it elsewhere."))
                .hasMessage("The output file " + directory + " is a directory, not a file: run it elsewhere. Nothing"
                        + " was changed.");
        assertThatThrownBy(() -> ScriptFiles.writableFile(
                        dir.resolve("missing").resolve("result.json"), "The output file {path}", "run it elsewhere."))
                .hasMessage("The output file " + dir.resolve("missing").resolve("result.json") + " cannot be created:"
                        + " its directory " + dir.resolve("missing")
                        + " does not exist or is not writable by this user:"
                        + " run it elsewhere. Nothing was changed.");
        assertThat(ScriptFiles.writableFile(existing, "The output file {path}", "run it elsewhere."))
                .isEqualTo(existing);
        assertThat(ScriptFiles.writableFile(dir.resolve("new.json"), "The output file {path}", "run it elsewhere."))
                .isEqualTo(dir.resolve("new.json"))
                .doesNotExist();
    }
}
