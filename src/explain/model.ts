/**
 * Asks the configured language model, within a budget. The budget covers the whole call: the
 * clients' retries are off, the request is aborted when the budget runs out, and a race against
 * the same timer answers even if a client were slow to notice the abort.
 */
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { ModelPrompt } from './prompt.js';

export interface ModelSettings {
  provider: 'openai' | 'anthropic';
  model: string;
  baseUrl: string | undefined;
  apiKey: string | undefined;
}

export type ModelCall = (call: {
  settings: ModelSettings;
  prompt: ModelPrompt;
  signal: AbortSignal;
  timeoutMs: number;
}) => Promise<string>;

// Each client is loaded on its first call: the two SDKs add about 40 MB and 0.2 s to every start
// of a process (the CLI's included), and most never ask a model.
const calls: Record<ModelSettings['provider'], () => Promise<ModelCall>> = {
  openai: async () => (await import('./openai-model.js')).askOpenAi,
  anthropic: async () => (await import('./anthropic-model.js')).askAnthropic,
};

// A model that ignores "two to four sentences" should not fill the run record.
const answerChars = 1200;

/** The model to ask, or null when none is configured (provider and model both set). */
export function modelSettings(ai: Config['ai']): ModelSettings | null {
  if (!ai.provider || !ai.model) return null;
  return { provider: ai.provider, model: ai.model, baseUrl: ai.baseUrl, apiKey: ai.apiKey };
}

function trimAnswer(text: string): string {
  const answer = text.trim();
  if (answer.length <= answerChars) return answer;
  const cut = answer.slice(0, answerChars);
  const end = cut.lastIndexOf('. ');
  return end > answerChars / 2 ? cut.slice(0, end + 1) : `${cut}…`;
}

/** The model's answer, or null on timeout, error or an empty answer. Never throws. */
export async function askModel(
  settings: ModelSettings,
  prompt: ModelPrompt,
  budgetMs: number,
  logger?: Logger,
): Promise<string | null> {
  const started = Date.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const outOfTime = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timeout');
    }, budgetMs);
  });

  const call = calls[settings.provider]()
    .then((ask) => ask({ settings, prompt, signal: controller.signal, timeoutMs: budgetMs }))
    .then(
      (text) => ({ text }),
      (error: unknown) => ({ error }),
    );

  try {
    const result = await Promise.race([call, outOfTime]);
    const context = { provider: settings.provider, model: settings.model };
    const elapsedMs = Date.now() - started;
    if (result === 'timeout') {
      logger?.warn({ ...context, budgetMs }, 'model took longer than the budget; rules answer');
      return null;
    }
    if ('error' in result) {
      // Only the error's class and status: its message may quote the request or the response.
      const error = result.error as { name?: string; status?: number };
      logger?.warn(
        { ...context, elapsedMs, errorName: error?.name, status: error?.status },
        'model call failed; rules answer',
      );
      return null;
    }
    const answer = trimAnswer(result.text);
    if (!answer)
      logger?.warn({ ...context, elapsedMs }, 'model gave an empty answer; rules answer');
    return answer || null;
  } finally {
    clearTimeout(timer);
  }
}
