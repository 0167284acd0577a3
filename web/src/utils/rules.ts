import type { FormItemRule } from 'element-plus'
import { i18n } from '@/i18n'

const t = (key: string, named?: Record<string, unknown>) => (named ? i18n.global.t(key, named) : i18n.global.t(key))

// Rules are functions of the current language: build them inside computed() in components.
export const rules = {
  required(fieldKey: string, trigger: string | string[] = 'blur'): FormItemRule {
    return { required: true, message: t('validation.required', { field: t(fieldKey) }), trigger }
  },
  requiredSelect(fieldKey: string): FormItemRule {
    return { required: true, message: t('validation.select', { field: t(fieldKey) }), trigger: 'change' }
  },
  max(n: number): FormItemRule {
    return { max: n, message: t('validation.maxLength', { max: n }), trigger: 'blur' }
  },
  email(): FormItemRule {
    return { type: 'email', message: t('validation.email'), trigger: 'blur' }
  },
  mobile(): FormItemRule {
    return { pattern: /^\+?[0-9][0-9 -]{4,19}$/, message: t('validation.mobile'), trigger: 'blur' }
  },
  username(): FormItemRule {
    return { pattern: /^[A-Za-z0-9._-]{3,32}$/, message: t('validation.username'), trigger: 'blur' }
  },
  password(min = 10): FormItemRule {
    return { min, message: t('validation.passwordMin', { min }), trigger: 'blur' }
  },
  totp(): FormItemRule {
    return { pattern: /^[0-9]{6}$/, message: t('validation.totpCode'), trigger: 'blur' }
  },
  sameAs(get: () => string): FormItemRule {
    return {
      validator: (_r: unknown, v: string, cb: (e?: Error) => void) =>
        v === get() ? cb() : cb(new Error(t('validation.passwordMismatch'))),
      trigger: 'blur',
    }
  },
}

export const PASSWORD_MIN = 10
