import { describe, expect, it } from 'vitest';
import { normalizeEmail, normalizeName } from './user.js';

describe('user rules', () => {
  it('treats e-mail addresses case-insensitively', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM ')).toBe('ada.lovelace@example.com');
    expect(normalizeEmail('ADA@example.com')).toBe(normalizeEmail('ada@EXAMPLE.com'));
  });

  it('tidies the display name', () => {
    expect(normalizeName('  Ada   King ')).toBe('Ada King');
  });
});
