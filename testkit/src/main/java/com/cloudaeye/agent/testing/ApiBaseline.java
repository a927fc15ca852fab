package com.cloudaeye.agent.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The API-compatibility check: the public API of a module (every public or protected type, constructor, method and
 * field outside {@code .internal} packages, generated Immutables classes included) as sorted text, compared with
 * the baseline {@code src/test/resources/golden/public-api.txt}. A baseline line that is gone means a user's code
 * compiled against the previous version may no longer compile or link: that is the incompatible change this check
 * exists to stop. A new line (an addition) fails too, so that the baseline is always the current API and an added
 * abstract method on an interface users implement is reviewed; accept an intended change with
 * {@code -Dgolden.update=true} and review the diff of the baseline like code.
 */
public final class ApiBaseline {
    private static final Path CLASSES = Path.of("target", "classes");
    private static final Path BASELINE = Path.of("src", "test", "resources", "golden", "public-api.txt");
    private static final int VISIBLE = Modifier.PUBLIC | Modifier.PROTECTED;
    private static final int SHOWN = VISIBLE | Modifier.ABSTRACT | Modifier.STATIC | Modifier.FINAL;

    private ApiBaseline() {}

    /**
     * Fails, listing the incompatible and the added lines, when the API of the module whose tests run (its {@code
     * target/classes}) differs from its baseline {@code src/test/resources/golden/public-api.txt}.
     */
    public static void assertMatchesBaseline() {
        assertMatchesBaseline(CLASSES, BASELINE);
    }

    /**
     * The same for the classes of another module (e.g. one this module's tests depend on), which must be on the
     * class path.
     *
     * @param classes the module's compiled classes
     * @param baseline its baseline file
     */
    public static void assertMatchesBaseline(Path classes, Path baseline) {
        String actual = describe(classes);
        try {
            if (Boolean.getBoolean("golden.update")) {
                Files.createDirectories(baseline.toAbsolutePath().getParent());
                Files.writeString(baseline, actual, StandardCharsets.UTF_8);
            }
            if (!Files.exists(baseline)) {
                throw new AssertionError("No API baseline " + baseline + ": run the test with -Dgolden.update=true");
            }
            String expected = Files.readString(baseline, StandardCharsets.UTF_8);
            if (!expected.equals(actual)) {
                throw new AssertionError(difference(expected, actual));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param classes a directory of compiled classes, on the class path of the caller
     * @return the public API found there, one type after another, each with its members, all sorted
     */
    public static String describe(Path classes) {
        TreeMap<String, StringBuilder> types = new TreeMap<>(); // by name: a changed modifier moves no type
        for (Class<?> type : apiTypes(classes)) {
            StringBuilder text = new StringBuilder(header(type)).append('\n');
            members(type).forEach(member -> text.append("  ").append(member).append('\n'));
            types.put(type.getName(), text);
        }
        return String.join("", types.values());
    }

    private static List<Class<?>> apiTypes(Path classes) {
        try (Stream<Path> files = Files.walk(classes)) {
            List<Class<?>> types = new ArrayList<>();
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).collect(Collectors.toList())) {
                String name = classes.relativize(file)
                        .toString()
                        .replace(file.getFileSystem().getSeparator(), ".");
                name = name.substring(0, name.length() - ".class".length());
                if (name.contains(".internal.") || name.endsWith("package-info") || name.equals("module-info")) {
                    continue;
                }
                Class<?> type = Class.forName(name, false, ApiBaseline.class.getClassLoader());
                if (isVisible(type)) {
                    types.add(type);
                }
            }
            return types;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException(classes + " is not on the class path of the test", e);
        }
    }

    private static boolean isVisible(Class<?> type) {
        if (type.isAnonymousClass() || type.isLocalClass() || type.isSynthetic()) {
            return false;
        }
        Class<?> outer = type.getDeclaringClass();
        return (type.getModifiers() & VISIBLE) != 0 && (outer == null || isVisible(outer));
    }

    private static String header(Class<?> type) {
        String kind = type.isAnnotation()
                ? "@interface"
                : type.isInterface() ? "interface" : type.isEnum() ? "enum" : type.isRecord() ? "record" : "class";
        int modifiers = type.getModifiers() & SHOWN;
        if (type.isInterface() || type.isEnum() || type.isRecord()) {
            modifiers &= ~(Modifier.ABSTRACT | Modifier.FINAL | Modifier.STATIC);
        }
        StringBuilder header = new StringBuilder(Modifier.toString(modifiers))
                .append(' ')
                .append(kind)
                .append(' ')
                .append(type.getName())
                .append(typeParameters(type.getTypeParameters()));
        Type superclass = type.getGenericSuperclass();
        if (superclass != null && superclass != Object.class && !type.isEnum() && !type.isRecord()) {
            header.append(" extends ").append(superclass.getTypeName());
        }
        Type[] interfaces = type.getGenericInterfaces();
        if (interfaces.length > 0 && !type.isAnnotation()) {
            header.append(type.isInterface() ? " extends " : " implements ").append(names(interfaces));
        }
        return header.toString();
    }

    private static Set<String> members(Class<?> type) {
        Set<String> members = new TreeSet<>();
        for (Field field : type.getDeclaredFields()) {
            if (isApi(field)) {
                members.add(Modifier.toString(field.getModifiers() & SHOWN) + " "
                        + field.getGenericType().getTypeName() + " " + field.getName());
            }
        }
        for (Constructor<?> constructor : type.getDeclaredConstructors()) {
            if (isApi(constructor) && !type.isEnum()) {
                members.add(Modifier.toString(constructor.getModifiers() & SHOWN) + " " + signature(constructor, ""));
            }
        }
        Set<Method> methods = new LinkedHashSet<>(Arrays.asList(type.getDeclaredMethods()));
        // Public methods inherited from a superclass users cannot name are still callable on this type.
        for (Method method : type.getMethods()) {
            if (!isVisible(method.getDeclaringClass())) {
                methods.add(method);
            }
        }
        for (Method method : methods) {
            if (isApi(method) && !method.isBridge()) {
                int modifiers = method.getModifiers() & SHOWN;
                if (type.isInterface()) {
                    modifiers &= ~Modifier.PUBLIC;
                }
                String prefix = Modifier.toString(modifiers) + (method.isDefault() ? " default" : "");
                members.add((prefix.isEmpty() ? "" : prefix.trim() + " ")
                        + typeParameters(method.getTypeParameters()).stripLeading()
                        + (method.getTypeParameters().length > 0 ? " " : "")
                        + method.getGenericReturnType().getTypeName() + " "
                        + signature(method, method.getName()));
            }
        }
        return members;
    }

    private static boolean isApi(Member member) {
        return !member.isSynthetic() && (member.getModifiers() & VISIBLE) != 0;
    }

    private static String signature(Executable executable, String name) {
        String throwsClause = executable.getGenericExceptionTypes().length == 0
                ? ""
                : " throws " + names(executable.getGenericExceptionTypes());
        return (name.isEmpty() ? executable.getDeclaringClass().getSimpleName() : name) + "("
                + names(executable.getGenericParameterTypes()) + ")" + throwsClause;
    }

    private static String typeParameters(TypeVariable<?>[] parameters) {
        if (parameters.length == 0) {
            return "";
        }
        return Arrays.stream(parameters)
                .map(p -> p.getName()
                        + (p.getBounds().length == 1 && p.getBounds()[0] == Object.class
                                ? ""
                                : " extends "
                                        + Arrays.stream(p.getBounds())
                                                .map(Type::getTypeName)
                                                .collect(Collectors.joining(" & "))))
                .collect(Collectors.joining(", ", "<", ">"));
    }

    private static String names(Type[] types) {
        return Arrays.stream(types).map(Type::getTypeName).collect(Collectors.joining(", "));
    }

    private static String difference(String baseline, String actual) {
        Set<String> before = lines(baseline);
        Set<String> after = lines(actual);
        StringBuilder message = new StringBuilder("The public API differs from " + BASELINE + ".\n");
        List<String> gone = before.stream().filter(l -> !after.contains(l)).collect(Collectors.toList());
        List<String> added = after.stream().filter(l -> !before.contains(l)).collect(Collectors.toList());
        if (!gone.isEmpty()) {
            message.append(
                    "Incompatible: users' code that uses these no longer compiles or links (removed or changed):\n");
            gone.forEach(l -> message.append("  - ").append(l).append('\n'));
        }
        if (!added.isEmpty()) {
            message.append("Added (compatible, unless an abstract method on a type users implement):\n");
            added.forEach(l -> message.append("  + ").append(l).append('\n'));
        }
        return message.append("An intended change: run with -Dgolden.update=true, review the baseline's diff, and say"
                        + " in the commit why the API changed.")
                .toString();
    }

    /** Each member qualified by its type's name, so that the same member of two types stays two lines. */
    private static Set<String> lines(String api) {
        Set<String> lines = new LinkedHashSet<>();
        String type = "";
        for (String line : api.split("\n", -1)) {
            if (line.startsWith("  ")) {
                lines.add(type + ": " + line.strip());
            } else if (!line.isEmpty()) {
                type = typeName(line);
                lines.add(line);
            }
        }
        return lines;
    }

    private static String typeName(String header) {
        List<String> words = Arrays.asList(header.split(" "));
        int kind = words.indexOf("class");
        for (String other : List.of("interface", "@interface", "enum", "record")) {
            kind = Math.max(kind, words.indexOf(other));
        }
        return words.get(kind + 1).replaceFirst("<.*", "");
    }
}
