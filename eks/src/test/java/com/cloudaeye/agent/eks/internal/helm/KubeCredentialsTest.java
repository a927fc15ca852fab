package com.cloudaeye.agent.eks.internal.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.cloudaeye.agent.PlanningException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The credentials of a kubeconfig's user, as client-go would send them. */
class KubeCredentialsTest {
    private static final String TOKEN = "user-token-0c4e2f";

    @TempDir
    Path dir;

    @Test
    void authorization_fromToken_tokenFile_andBasic() throws Exception {
        assertThat(header("{token: " + TOKEN + "}")).isEqualTo("Bearer " + TOKEN);
        Files.writeString(dir.resolve("token"), TOKEN + "\n");
        assertThat(header("{tokenFile: token}")).isEqualTo("Bearer " + TOKEN);
        assertThat(header("{username: ann, password: pw}"))
                .isEqualTo("Basic " + Base64.getEncoder().encodeToString("ann:pw".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void authorization_fromExecPlugin_runsItNonInteractively_withItsArgsAndEnv() throws Exception {
        Path plugin = Files.writeString(
                dir.resolve("get-token.sh"),
                "#!/bin/sh\n"
                        + "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 3 ;; esac\n"
                        + "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
                        + "\"status\":{\"token\":\"'\"$1-$CLUSTER\"'\"}}'\n");
        Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwx------"));

        String header = header("{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: ./get-token.sh,"
                + " args: [exec], env: [{name: CLUSTER, value: prod}]}}");

        assertThat(header).isEqualTo("Bearer exec-prod");
    }

    @Test
    void authorization_whenTheExecPluginFails_saysWhich_withoutItsOutput() throws Exception {
        Path plugin = Files.writeString(dir.resolve("fail.sh"), "#!/bin/sh\necho " + TOKEN + "\nexit 7\n");
        Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwx------"));

        assertThatThrownBy(() -> header("{exec: {apiVersion: client.authentication.k8s.io/v1, command: ./fail.sh}}"))
                .isInstanceOf(PlanningException.class)
                .hasMessageContaining("exec credential plugin " + plugin + " of user 'u' exited with 7")
                .hasMessageNotContaining(TOKEN);
    }

    @Test
    void authorization_withAuthProvider_isLeftToHelm() throws IOException {
        Kubeconfig config = config("{auth-provider: {name: oidc, config: {id-token: x}}}");

        assertThatThrownBy(() -> KubeCredentials.authorization(config))
                .isInstanceOf(KubeCredentials.Unsupported.class)
                .hasMessageContaining("auth-provider");
    }

    @Test
    void privateKey_readsPkcs8_pkcs1Rsa_andSec1Ec() throws Exception {
        Kubeconfig config = config("{token: t}");
        KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
        byte[] pkcs8 = rsa.getPrivate().getEncoded();
        // Java's RSA PKCS#8: SEQUENCE(4) INTEGER(3) AlgorithmIdentifier(15) OCTET STRING(4) then the PKCS#1 key.
        assertThat(pkcs8[22]).isEqualTo((byte) 0x04);
        byte[] pkcs1 = Arrays.copyOfRange(pkcs8, 26, pkcs8.length);

        assertThat(KubeCredentials.privateKey(config, pem("PRIVATE KEY", pkcs8)).getEncoded())
                .isEqualTo(pkcs8);
        assertThat(KubeCredentials.privateKey(config, pem("RSA PRIVATE KEY", pkcs1))
                        .getEncoded())
                .isEqualTo(pkcs8);

        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        ECPrivateKey key = (ECPrivateKey) ec.generateKeyPair().getPrivate();
        byte[] sec1 = sec1P256(key.getS());
        ByteArrayOutputStream withParameters = new ByteArrayOutputStream();
        withParameters.writeBytes(
                pem("EC PARAMETERS", new byte[] {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 3, 1, 7}));
        withParameters.writeBytes(pem("EC PRIVATE KEY", sec1));
        PrivateKey read = KubeCredentials.privateKey(config, withParameters.toByteArray());

        assertThat(((ECPrivateKey) read).getS()).isEqualTo(key.getS());
    }

    /** SEC1 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING d, [0] OID prime256v1 }. */
    private static byte[] sec1P256(BigInteger d) {
        byte[] raw = d.toByteArray();
        byte[] scalar = new byte[32];
        int from = Math.max(0, raw.length - 32);
        System.arraycopy(raw, from, scalar, 32 - (raw.length - from), raw.length - from);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x01, 0x04, 0x20});
        body.writeBytes(scalar);
        body.writeBytes(
                new byte[] {(byte) 0xa0, 0x0a, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 3, 1, 7});
        ByteArrayOutputStream der = new ByteArrayOutputStream();
        der.write(0x30);
        der.write(body.size());
        der.writeBytes(body.toByteArray());
        return der.toByteArray();
    }

    private static byte[] pem(String type, byte[] der) {
        return ("-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END " + type
                        + "-----\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private String header(String user) throws Exception {
        return KubeCredentials.authorization(config(user)).header().orElseThrow();
    }

    private Kubeconfig config(String user) throws IOException {
        Path file = Files.writeString(
                dir.resolve("config-" + System.nanoTime() + ".yaml"),
                "{current-context: c, contexts: [{name: c, context: {cluster: k, user: u}}],"
                        + " clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}],"
                        + " users: [{name: u, user: " + user + "}]}");
        return Kubeconfig.load(file);
    }
}
