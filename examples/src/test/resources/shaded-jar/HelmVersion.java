/** Run with the shaded jar on the class path (java's source launcher): prints the version of its in-process Helm. */
public class HelmVersion {
    public static void main(String[] args) {
        System.out.println("HELM " + com.marcnuri.helm.Helm.version().call());
    }
}
