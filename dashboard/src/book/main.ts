import { createApp } from 'vue';
import '../style.css';
import './book.css';
import BookApp from './BookApp.vue';
import { bookI18n } from './i18n.js';

/** The residents' booking page (/book): no login, phone first, Chinese first. */
createApp(BookApp).use(bookI18n).mount('#book');
