package com.cloudaeye.agent.eks.internal.helm;

import java.math.BigInteger;

/** Just enough DER to wrap PKCS#1 and SEC1 keys into PKCS#8. */
final class Der {
    /** AlgorithmIdentifier of rsaEncryption with NULL parameters. */
    static final byte[] RSA_ALGORITHM = {
        0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00
    };

    private static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
    };

    private Der() {}

    /** PrivateKeyInfo: SEQUENCE { INTEGER 0, algorithm, OCTET STRING key }. */
    static byte[] pkcs8(byte[] algorithm, byte[] key) {
        byte[] version = {0x02, 0x01, 0x00};
        return tlv(0x30, concat(version, algorithm, tlv(0x04, key)));
    }

    /** The ecPublicKey AlgorithmIdentifier with the named curve a SEC1 key carries in its [0] field. */
    static byte[] ecAlgorithm(byte[] sec1) throws java.security.spec.InvalidKeySpecException {
        int[] at = {0};
        expect(sec1, at, 0x30);
        length(sec1, at);
        while (at[0] < sec1.length) {
            int tag = sec1[at[0]++] & 0xff;
            int length = length(sec1, at);
            if (tag == 0xa0) {
                byte[] curve = java.util.Arrays.copyOfRange(sec1, at[0], at[0] + length);
                return tlv(0x30, concat(EC_PUBLIC_KEY_OID, curve));
            }
            at[0] += length;
        }
        throw new java.security.spec.InvalidKeySpecException("EC PRIVATE KEY without its named curve");
    }

    private static void expect(byte[] der, int[] at, int tag) throws java.security.spec.InvalidKeySpecException {
        if (at[0] >= der.length || (der[at[0]++] & 0xff) != tag) {
            throw new java.security.spec.InvalidKeySpecException("not DER");
        }
    }

    private static int length(byte[] der, int[] at) throws java.security.spec.InvalidKeySpecException {
        if (at[0] >= der.length) {
            throw new java.security.spec.InvalidKeySpecException("truncated DER");
        }
        int first = der[at[0]++] & 0xff;
        if (first < 0x80) {
            return first;
        }
        int bytes = first & 0x7f;
        if (bytes > 3 || at[0] + bytes > der.length) {
            throw new java.security.spec.InvalidKeySpecException("bad DER length");
        }
        int length = new BigInteger(1, java.util.Arrays.copyOfRange(der, at[0], at[0] + bytes)).intValue();
        at[0] += bytes;
        return length;
    }

    private static byte[] tlv(int tag, byte[] value) {
        byte[] length;
        if (value.length < 0x80) {
            length = new byte[] {(byte) value.length};
        } else {
            byte[] digits = BigInteger.valueOf(value.length).toByteArray();
            int skip = digits[0] == 0 ? 1 : 0;
            length = new byte[digits.length - skip + 1];
            length[0] = (byte) (0x80 | (digits.length - skip));
            System.arraycopy(digits, skip, length, 1, digits.length - skip);
        }
        return concat(new byte[] {(byte) tag}, length, value);
    }

    private static byte[] concat(byte[]... parts) {
        int size = 0;
        for (byte[] p : parts) {
            size += p.length;
        }
        byte[] all = new byte[size];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
