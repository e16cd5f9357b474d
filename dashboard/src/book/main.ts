import { createApp } from 'vue';
import '../style.css';
import './book.css';
import BookApp from './BookApp.vue';

/** The residents' booking page (/book): no login, phone first, Chinese first. */
createApp(BookApp).mount('#book');
