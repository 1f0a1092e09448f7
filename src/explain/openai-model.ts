import OpenAI from 'openai';
import type { ModelCall } from './model.js';

/**
 * OpenAI-style servers (OpenAI, Ollama, vLLM, LM Studio) all serve the protocol under /v1; a
 * bare "http://localhost:11434" is the usual slip, so a base URL without a path gets /v1.
 */
function withVersionPath(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return url.pathname === '/' ? `${url.origin}/v1` : baseUrl;
  } catch {
    return baseUrl;
  }
}

/** Any endpoint speaking the OpenAI chat-completions protocol: OpenAI, Ollama, vLLM, LM Studio. */
export const askOpenAi: ModelCall = async ({ settings, prompt, signal, timeoutMs }) => {
  const client = new OpenAI({
    // Local servers need no key, but the client refuses to start without one.
    apiKey: settings.apiKey ?? 'none',
    ...(settings.baseUrl ? { baseURL: withVersionPath(settings.baseUrl) } : {}),
    // The caller's budget covers the whole call, so no retries of the client's own.
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
  });

  // No max_tokens or temperature: newer OpenAI models refuse them and local servers differ;
  // the prompt asks for two to four sentences and the caller cuts a longer answer.
  const answer = await client.chat.completions.create(
    {
      model: settings.model,
      messages: [
        { role: 'system', content: prompt.system },
        { role: 'user', content: prompt.user },
      ],
    },
    { signal },
  );
  return answer.choices[0]?.message?.content ?? '';
};
