// Fake credentials only: if any code path fell back to the environment, it could never reach a real account.
process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'LTAI-fake-test-key';
process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'fake-test-secret';
delete process.env.ALIBABA_CLOUD_SECURITY_TOKEN;
