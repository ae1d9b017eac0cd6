// Valid-looking payment codes per wallet (shapes from PROTOCOL.md "Payment codes"), for hardware tests.
export const WECHAT = '134567890123456789'; // 18 digits, prefix 13
export const ALIPAY = '281234567890123456'; // 18 digits, prefix 28
export const UNIONPAY = '6212345678901234567'; // 19 digits, prefix 62
