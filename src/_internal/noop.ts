/** Does nothing: the handler for a promise whose outcome is not needed (its rejection is handled, not reported). */
export function noop(): void {}
