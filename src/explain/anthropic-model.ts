import Anthropic from '@anthropic-ai/sdk';
import type { ModelCall } from './model.js';

/** The Anthropic messages API. */
export const askAnthropic: ModelCall = async ({ settings, prompt, signal, timeoutMs }) => {
  const client = new Anthropic({
    // Always explicit: without a key the client would search profiles on disk for credentials.
    apiKey: settings.apiKey ?? 'none',
    // The client adds /v1/messages itself; a base URL copied in OpenAI style ends in /v1.
    ...(settings.baseUrl ? { baseURL: settings.baseUrl.replace(/\/v1\/?$/, '') } : {}),
    // The caller's budget covers the whole call, so no retries of the client's own.
    maxRetries: 0,
    timeout: timeoutMs,
    logLevel: 'off',
    openTelemetry: false,
  });

  const answer = await client.messages.create(
    {
      model: settings.model,
      max_tokens: 400,
      system: prompt.system,
      messages: [{ role: 'user', content: prompt.user }],
    },
    { signal },
  );
  return answer.content
    .map((block) => (block.type === 'text' ? block.text : ''))
    .join('')
    .trim();
};
