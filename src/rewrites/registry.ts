import type { Form, FormId } from './types';
import { where } from './forms/where';
import { reluNeg } from './forms/relu-neg';
import { maxMin } from './forms/max-min';
import { leaky } from './forms/leaky';
import { reshapeSlope } from './forms/reshape-slope';

export const FORMS: readonly Form[] = [reshapeSlope, where, leaky, maxMin, reluNeg];

export function findForm(id: string): Form | undefined {
  return FORMS.find((f) => f.id === id);
}

export const FORM_IDS = FORMS.map((f) => f.id) as FormId[];
