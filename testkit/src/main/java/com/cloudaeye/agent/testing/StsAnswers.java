package com.cloudaeye.agent.testing;

import java.time.Instant;

/**
 * STS's answers, for a target's unit tests that stand a stub (WireMock, an in-process HTTP server) in for AWS: the
 * bodies STS sends for {@code GetCallerIdentity} (which account the credentials act in), for {@code AssumeRole} (a
 * role's credentials) and for an {@code AssumeRole} refused as AWS refuses a role that does not exist, in STS's query
 * protocol, and what each request's form body contains. No HTTP library's type appears here, so any stub can serve
 * them: with {@link #CONTENT_TYPE}, status 200 ({@link #ACCESS_DENIED_STATUS} for {@link #assumeRoleDenied}). Shared by
 * the platform modules' tests, which may not depend on each other.
 *
 * <p>With WireMock: {@code aws.stubFor(post(urlEqualTo("/")).withRequestBody(containing(StsAnswers.GET_CALLER_IDENTITY))
 * .willReturn(aResponse().withStatus(200).withHeader("Content-Type", StsAnswers.CONTENT_TYPE)
 * .withBody(StsAnswers.callerIdentity(account))))}.
 */
public final class StsAnswers {
    /** The {@code Content-Type} of every answer. */
    public static final String CONTENT_TYPE = "text/xml";

    /** The HTTP status of {@link #assumeRoleDenied}, as AWS sends it. */
    public static final int ACCESS_DENIED_STATUS = 403;

    /** What the form body of a {@code GetCallerIdentity} request contains, to tell it from other calls. */
    public static final String GET_CALLER_IDENTITY = "Action=GetCallerIdentity";

    /** What the form body of an {@code AssumeRole} request contains, to tell it from other calls. */
    public static final String ASSUME_ROLE = "Action=AssumeRole";

    private static final String XMLNS = "xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"";

    private StsAnswers() {}

    /**
     * @param account the account the credentials act in
     * @return the answer to {@code GetCallerIdentity} for credentials of the IAM user {@code deployer} of that account
     */
    public static String callerIdentity(String account) {
        return "<GetCallerIdentityResponse " + XMLNS + ">"
                + "<GetCallerIdentityResult><Arn>arn:aws:iam::" + account + ":user/deployer</Arn>"
                + "<UserId>AIDAEXAMPLE</UserId><Account>" + account + "</Account>"
                + "</GetCallerIdentityResult></GetCallerIdentityResponse>";
    }

    /**
     * @param account the account of the role assumed
     * @param accessKeyId the access key ID of the credentials (one that names the account lets a stub tell later
     *     calls' accounts apart)
     * @param expiration when the credentials expire
     * @return the answer to {@code AssumeRole}: credentials of the session {@code fleet} of the role {@code stub} in
     *     that account, whose secret key and session token are {@code stub}
     */
    public static String assumeRole(String account, String accessKeyId, Instant expiration) {
        return "<AssumeRoleResponse " + XMLNS + "><AssumeRoleResult>"
                + "<Credentials><AccessKeyId>" + accessKeyId + "</AccessKeyId><SecretAccessKey>stub</SecretAccessKey>"
                + "<SessionToken>stub</SessionToken><Expiration>" + expiration + "</Expiration>"
                + "</Credentials><AssumedRoleUser><AssumedRoleId>AROASTUB:fleet</AssumedRoleId><Arn>arn:aws:sts::"
                + account + ":assumed-role/stub/fleet</Arn></AssumedRoleUser></AssumeRoleResult>"
                + "<ResponseMetadata><RequestId>stub</RequestId></ResponseMetadata></AssumeRoleResponse>";
    }

    /**
     * @param caller the ARN of the caller
     * @param roleArn the ARN of the role it asked for
     * @return the answer AWS sends (with {@link #ACCESS_DENIED_STATUS}) when the caller may not assume the role, or the
     *     role does not exist: error code {@code AccessDenied}
     */
    public static String assumeRoleDenied(String caller, String roleArn) {
        return "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: " + caller
                + " is not authorized to perform: sts:AssumeRole on resource: " + roleArn
                + "</Message></Error><RequestId>r1</RequestId></ErrorResponse>";
    }
}
