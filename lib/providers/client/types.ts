import type { StoredEndpoint } from '../../registry/types.js';

/** What is sent to the provider. */
export interface ProviderRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Asynchronous credentials a service may need (tokens fetched or signed per request). */
export interface AuthContext {
  /** A Google OAuth2 access token for a Vertex AI endpoint. */
  googleAccessToken(endpoint: StoredEndpoint): Promise<string>;
  /** An IBM Cloud IAM token for a watsonx API key. */
  ibmIamToken(apiKey: string): Promise<string>;
}

export interface RequestInput {
  endpoint: StoredEndpoint;
  /** The one input string of a `completion` request. */
  input: string;
  /** The endpoint's task settings overlaid with the request's. */
  taskSettings: Record<string, unknown>;
}

/** How one Elasticsearch service turns a `completion` request into a provider request. */
export interface ServiceDefinition {
  /** Elasticsearch service name, also the provider parser id. */
  id: string;
  /** `service_settings` keys a PUT must carry. */
  required: readonly string[];
  /** `service_settings` keys of which at least one is needed (e.g. api_key or entra_id). */
  oneOf?: readonly string[];
  build(input: RequestInput, auth: AuthContext): ProviderRequest | Promise<ProviderRequest>;
}
