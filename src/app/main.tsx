import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './App';
import { Recover } from './Recover';
import { startPersistence } from './persist';

// The kept model (IndexedDB) is restored, and every step kept from then on (src/app/persist.ts).
void startPersistence();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Recover>
      <App />
    </Recover>
  </StrictMode>,
);
