package com.cloudaeye.agent.internal;

import com.cloudaeye.agent.PlanningException;
import com.cloudaeye.agent.spi.support.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;

/** Finds a fleet's accounts in AWS Organizations: all active accounts, or those below organizational units. */
public final class FleetAccounts {
    private FleetAccounts() {}

    /**
     * @param calls signed calls
     * @param credentials the caller: the organization's management account or a delegated administrator
     * @param home a region of the organization's partition
     * @param parents organizational unit (or root) IDs whose accounts, at any depth, are wanted; empty for all
     * @return the IDs of the ACTIVE accounts found, sorted
     * @throws PlanningException when Organizations refuses or fails, with the permission it needs
     */
    public static Set<String> discover(
            SignedCalls calls, AwsCredentialsProvider credentials, Region home, List<String> parents) {
        Set<String> accounts = new TreeSet<>();
        try {
            if (parents.isEmpty()) {
                pages(calls, credentials, home, "ListAccounts", r -> {}, page -> active(page, accounts));
                return accounts;
            }
            // Breadth-first through the units below each given one: ListAccountsForParent lists direct members only.
            Deque<String> units = new ArrayDeque<>(parents);
            Set<String> seen = new TreeSet<>();
            while (!units.isEmpty()) {
                String unit = units.pop();
                if (!seen.add(unit)) {
                    continue;
                }
                pages(
                        calls,
                        credentials,
                        home,
                        "ListAccountsForParent",
                        r -> r.put("ParentId", unit),
                        page -> active(page, accounts));
                pages(
                        calls,
                        credentials,
                        home,
                        "ListChildren",
                        r -> r.put("ParentId", unit).put("ChildType", "ORGANIZATIONAL_UNIT"),
                        page -> page.path("Children")
                                .forEach(c -> units.add(c.path("Id").asText())));
            }
            return accounts;
        } catch (SdkException e) {
            throw new PlanningException(
                    "Could not list the organization's accounts" + (parents.isEmpty() ? "" : " under " + parents)
                            + " (" + AwsErrors.describe(e) + "): call from the organization's management account or"
                            + " a delegated administrator with organizations:ListAccounts"
                            + (parents.isEmpty()
                                    ? ""
                                    : ", organizations:ListAccountsForParent and" + " organizations:ListChildren")
                            + ", or name the accounts with .accounts(...). Nothing was planned or changed.",
                    e);
        }
    }

    /**
     * @param units the organizational units searched, empty for the whole organization
     * @param given the accounts given
     * @param found the ACTIVE accounts Organizations listed
     * @param excluded the accounts left out
     * @return why a fleet has no account, what was searched, and the fix
     */
    public static String noAccount(List<String> units, Set<String> given, Set<String> found, Set<String> excluded) {
        String where = units.isEmpty() ? "the organization" : "the organizational units " + units + " (at any depth)";
        StringBuilder m = new StringBuilder("The fleet has no account: AWS Organizations listed ");
        m.append(found.isEmpty() ? "no" : String.valueOf(found.size())).append(" ACTIVE account");
        m.append(found.size() > 1 ? "s" : "").append(" in ").append(where);
        if (!given.isEmpty()) {
            m.append(", besides the ").append(given.size()).append(" given");
        }
        if (!excluded.isEmpty()) {
            m.append(", and excludeAccounts(").append(excluded).append(") leaves out ");
            m.append(found.isEmpty() && given.isEmpty() ? "nothing more" : "every one");
        }
        m.append(". ");
        if (found.isEmpty()) {
            m.append("Call from the organization's management account or a delegated administrator");
            m.append(units.isEmpty() ? "" : ", check the organizational unit IDs");
            m.append(", ");
        } else {
            m.append("Narrow excludeAccounts(...), ");
        }
        m.append("or name the accounts with .accounts(...). Nothing was planned or changed.");
        return m.toString();
    }

    private static void pages(
            SignedCalls calls,
            AwsCredentialsProvider credentials,
            Region home,
            String operation,
            Consumer<ObjectNode> request,
            Consumer<JsonNode> page) {
        String token = null;
        do {
            ObjectNode r = Json.object();
            request.accept(r);
            if (token != null) {
                r.put("NextToken", token);
            }
            JsonNode answer = calls.organizations(credentials, home, operation, r);
            page.accept(answer);
            JsonNode next = answer.path("NextToken");
            token = next.isTextual() && !next.asText().isEmpty() ? next.asText() : null;
        } while (token != null);
    }

    /** Adds the page's active accounts: {@code State} (since 2025), else the older {@code Status}. */
    private static void active(JsonNode page, Set<String> accounts) {
        for (JsonNode account : page.path("Accounts")) {
            String state = account.hasNonNull("State")
                    ? account.path("State").asText()
                    : account.path("Status").asText();
            if ("ACTIVE".equals(state)) {
                accounts.add(account.path("Id").asText());
            }
        }
    }
}
