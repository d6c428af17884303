import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import { App } from './App';
import { Recover } from './Recover';
import { startPersistence } from './persist';
import { registerServiceWorker } from './offline';

// The kept model (IndexedDB) is restored, and every step kept from then on (src/app/persist.ts).
const restoring = startPersistence();
// Offline once loaded: the service worker caches the whole build (src/app/offline.ts, public/sw.js).
registerServiceWorker();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Recover>
      <App restoring={restoring} />
    </Recover>
  </StrictMode>,
);
