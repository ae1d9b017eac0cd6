// Runs the platform vendor's own signing and verification classes (com.umpay.util.CertUtils, SignTools, Base64 from
// the public demo kit umpayer/ServiceProviderPlatform) to record fixtures. Not vendor code: it repeats, line for line,
// what the kit's demo classes do around those calls (AddSign.addSign: TreeMap.toString() with ", " -> "&" and the
// braces removed; AddSign.doCheckSign/assemSign: values of the sorted answer joined by "|"), with a small JSON
// reader/writer in place of fastjson (which is not packaged for Debian): objects into TreeMaps, decimals as
// BigDecimal and integers as Integer/Long/BigInteger, as fastjson does, so a number's text is kept.
// Usage: node tools/vendor-fixtures/record.mjs PATH_TO_KIT (beside this file).
import com.umpay.util.CertUtils;
import com.umpay.util.SignTools;
import java.io.*;
import java.math.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.util.*;

public class VendorDemo {
    // ---- AddSign.addSign, as in the kit (src/test/java/com/umpay/util/AddSign.java)
    static String addSign(TreeMap<String, Object> reqMap, String keyFile, StringBuilder plainOut) throws Exception {
        reqMap.remove("signature");
        String signStr = new StringBuilder(reqMap.toString().replace(", ", "&").replace("{", "").replace("}", "")).toString();
        plainOut.append(signStr);
        String sign = CertUtils.sign(signStr, CertUtils.getPrivateKey(keyFile), "UTF-8");
        reqMap.put("signature", sign);
        return toJson(reqMap);
    }

    // ---- AddSign.doCheckSign / assemSign, as in the kit
    static String answerPlain(String json) {
        @SuppressWarnings("unchecked")
        TreeMap<String, Object> treeMap = (TreeMap<String, Object>) new Reader(json).value();
        treeMap.remove("signature");
        StringBuilder sb = new StringBuilder();
        assemSign(treeMap, sb);
        if (sb.length() > 0) sb.deleteCharAt(sb.length() - 1);
        return sb.toString();
    }

    @SuppressWarnings("unchecked")
    static void assemSign(Map<String, Object> treeMap, StringBuilder sb) {
        for (String key : treeMap.keySet()) {
            if (treeMap.get(key) instanceof TreeMap) {
                assemSign((TreeMap<String, Object>) treeMap.get(key), sb);
            } else {
                if (null != treeMap.get(key) && !"".equals(treeMap.get(key))) {
                    sb.append(treeMap.get(key)).append("|");
                }
            }
        }
    }

    static String signature(String json) {
        Object v = ((TreeMap<?, ?>) new Reader(json).value()).get("signature");
        return v == null ? "" : v.toString();
    }

    // ---- the demo requests, fields exactly as the kit's step3..step7 classes put them
    static List<Object[]> demoRequests(String acqSpId, String acqMerId, String orderNo, String refundOrderNo, String time) {
        List<Object[]> out = new ArrayList<>();
        TreeMap<String, Object> m;
        // step3 API3_2 (micropay): goodsId/goodsInfo commented out in the kit
        m = new TreeMap<>();
        m.put("orderTime", time); m.put("acqSpId", acqSpId); m.put("acqMerId", acqMerId); m.put("orderNo", orderNo);
        m.put("txnAmt", "1"); m.put("orderType", "alipay"); m.put("authCode", "280389411343685293"); m.put("signature", "");
        out.add(new Object[] { "micropay", "POST", m });
        // step4 API3_4 (queryOrder): transactionId "" is put, signed as "transactionId=" and sent as ""
        m = new TreeMap<>();
        m.put("acqSpId", acqSpId); m.put("acqMerId", acqMerId); m.put("orderNo", orderNo); m.put("transactionId", ""); m.put("signature", "");
        out.add(new Object[] { "queryOrder", "POST", m });
        // step5 API3_6 (refund): no orderType
        m = new TreeMap<>();
        m.put("orderTime", time); m.put("acqSpId", acqSpId); m.put("acqMerId", acqMerId); m.put("origOrderNo", orderNo);
        m.put("origTxnAmt", "1"); m.put("orderNo", refundOrderNo); m.put("txnAmt", "1"); m.put("signature", "");
        out.add(new Object[] { "refund", "POST", m });
        // step5 API3_7 (refundQuery)
        m = new TreeMap<>();
        m.put("acqSpId", acqSpId); m.put("acqMerId", acqMerId); m.put("orderNo", refundOrderNo); m.put("signature", "");
        out.add(new Object[] { "refundQuery", "POST", m });
        // step5 API3_5 (cancelOrder) and step6 API3_8 (closeOrder), on the same order
        for (String call : new String[] { "cancelOrder", "closeOrder" }) {
            m = new TreeMap<>();
            m.put("acqSpId", acqSpId); m.put("acqMerId", acqMerId); m.put("orderNo", orderNo); m.put("signature", "");
            out.add(new Object[] { call, "POST", m });
        }
        // step7 API4_2 (downloadSettleFile): GET, no "signature" put before signing
        m = new TreeMap<>();
        m.put("acqSpId", acqSpId); m.put("stlDate", time.substring(0, 8));
        out.add(new Object[] { "downloadSettleFile", "GET", m });
        return out;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        if (mode.equals("requests")) {
            // requests KEYFILE ACQSPID ACQMERID ORDERNO REFUNDNO TIME14
            StringBuilder all = new StringBuilder("[\n");
            boolean first = true;
            for (Object[] r : demoRequests(args[2], args[3], args[4], args[5], args[6])) {
                @SuppressWarnings("unchecked")
                TreeMap<String, Object> m = (TreeMap<String, Object>) r[2];
                StringBuilder plain = new StringBuilder();
                String body = addSign(m, args[1], plain);
                TreeMap<String, Object> entry = new TreeMap<>();
                entry.put("call", r[0]); entry.put("method", r[1]); entry.put("plaintext", plain.toString()); entry.put("body", body);
                if (!first) all.append(",\n");
                first = false;
                all.append(toJson(entry));
            }
            System.out.println(all.append("\n]"));
        } else if (mode.equals("sign-answer")) {
            // sign-answer KEYFILE < answer JSON (no signature): prints the answer with the signature the vendor's rule makes
            String json = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).trim();
            String plain = answerPlain(json);
            String sign = CertUtils.sign(plain, CertUtils.getPrivateKey(args[1]), "UTF-8");
            System.out.println(json.substring(0, json.lastIndexOf('}')) + ",\"signature\":\"" + sign + "\"}");
            System.err.println(plain);
        } else if (mode.equals("verify")) {
            // verify CERTFILE < one answer JSON per line: prints "true|false<TAB>plaintext" per line
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) continue;
                String plain = answerPlain(line);
                byte[] sig = com.umpay.util.Base64.decode(signature(line).getBytes());
                X509Certificate cert = SignTools.genCertificate(Files.readAllBytes(Paths.get(args[1])));
                boolean ok = SignTools.verify(cert, plain.getBytes("UTF-8"), sig);
                System.out.println(ok + "\t" + plain);
            }
        } else {
            throw new IllegalArgumentException("mode: requests | sign-answer | verify");
        }
    }

    // ---- fastjson stand-in: compact output, keys in map order, null values omitted (fastjson's default)
    static String toJson(Object v) {
        if (v instanceof Map) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (e.getValue() == null) continue;
                if (!first) sb.append(',');
                first = false;
                sb.append(quote(e.getKey().toString())).append(':').append(toJson(e.getValue()));
            }
            return sb.append('}').toString();
        }
        if (v instanceof String) return quote((String) v);
        return String.valueOf(v);
    }

    static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') sb.append('\\').append(c);
            else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
        return sb.append('"').toString();
    }

    static class Reader {
        final String s; int i = 0;
        Reader(String s) { this.s = s; }
        void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }
        Object value() {
            ws();
            char c = s.charAt(i);
            if (c == '{') {
                i++; TreeMap<String, Object> m = new TreeMap<>(); ws();
                if (s.charAt(i) == '}') { i++; return m; }
                for (;;) { ws(); String k = str(); ws(); i++; m.put(k, value()); ws(); if (s.charAt(i++) == '}') return m; }
            }
            if (c == '[') {
                i++; List<Object> l = new ArrayList<>(); ws();
                if (s.charAt(i) == ']') { i++; return l; }
                for (;;) { l.add(value()); ws(); if (s.charAt(i++) == ']') return l; }
            }
            if (c == '"') return str();
            if (s.startsWith("null", i)) { i += 4; return null; }
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            int st = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String t = s.substring(st, i);
            if (t.contains(".") || t.contains("e") || t.contains("E")) return new BigDecimal(t);
            BigInteger b = new BigInteger(t);
            if (b.bitLength() < 32) return b.intValue();
            if (b.bitLength() < 64) return b.longValue();
            return b;
        }
        String str() {
            StringBuilder sb = new StringBuilder(); i++;
            for (;;) {
                char c = s.charAt(i++);
                if (c == '"') return sb.toString();
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n': sb.append('\n'); break; case 't': sb.append('\t'); break; case 'r': sb.append('\r'); break;
                        case 'b': sb.append('\b'); break; case 'f': sb.append('\f'); break;
                        case 'u': sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                        default: sb.append(e);
                    }
                } else sb.append(c);
            }
        }
    }
}
