/**
 * Entry point. Reads the page's URL once (the invite link, fragment included: it stays here),
 * checks that WebCrypto can make keys, and renders the app. Nothing is stored by the page.
 */
import { render } from 'preact';
import { checkCrypto } from './secure.js';
import { App } from './ui/App.js';
import './styles.css';

const root = document.getElementById('app');
if (root) {
  const link = window.location.href;
  void checkCrypto(window).then((check) => {
    root.textContent = '';
    render(<App link={link} check={check} />, root);
  });
}
