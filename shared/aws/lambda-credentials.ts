/**
 * The credential provider bundled into the Lambda functions in place of
 * `@aws-sdk/credential-provider-node` (esbuild alias, see BUNDLE_SETTINGS in
 * infra/constructs/pipeline-function.ts). In Lambda the execution role's credentials are always
 * in the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), so the
 * SSO, profile, process, web-identity and instance-metadata providers of the default chain (and
 * the nested STS/SSO clients they pull in, about 90 KiB minified) are never used there. Refuses
 * to run without those variables rather than guess.
 */
interface EnvCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly credentialScope?: string;
}

/** The SDK's `defaultProvider`, reduced to the environment. */
export const defaultProvider = () => async (): Promise<EnvCredentials> => {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw Object.assign(
      new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: not running in Lambda?'),
      {
        name: 'CredentialsProviderError',
        tryNextLink: false,
      },
    );
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
    ...(process.env.AWS_CREDENTIAL_SCOPE
      ? { credentialScope: process.env.AWS_CREDENTIAL_SCOPE }
      : {}),
  };
};

/** Environment credentials of a Lambda execution environment are not refreshed by the SDK. */
export const credentialsWillNeedRefresh = (): boolean => false;

/** See {@link credentialsWillNeedRefresh}. */
export const credentialsTreatedAsExpired = (): boolean => false;
